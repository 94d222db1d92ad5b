namespace InferenceRouter;

/// <summary>
/// Keeps an <see cref="InMemoryBudgetLedger"/>'s spend in its <see cref="LedgerFile"/>: writes a snapshot every interval when spend
/// changed, on demand, and once more on disposal, one write at a time. Thread-safe.
/// </summary>
internal sealed class LedgerPersistence : IDisposable
{
    private readonly LedgerFile _file;
    private readonly Func<LedgerFileDocument> _snapshot;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ITimer _timer;
    private int _dirty;
    private int _disposed;

    private LedgerPersistence(LedgerFile file, Func<LedgerFileDocument> snapshot, TimeSpan interval, TimeProvider time)
    {
        _file = file;
        _snapshot = snapshot;
        _timer = time.CreateTimer(static state => _ = ((LedgerPersistence)state!).WriteIfChangedAsync(), this, interval, interval);
    }

    /// <summary>Takes the file at <paramref name="path"/>, hands what it holds to <paramref name="restore"/>, then writes <paramref name="snapshot"/> every <paramref name="interval"/> it changed.</summary>
    /// <param name="path">The spend file.</param>
    /// <param name="restore">Takes back the saved spend (not called when there is no file yet).</param>
    /// <param name="snapshot">Copies the ledger's spend for a write.</param>
    /// <param name="interval">How often changed spend is written.</param>
    /// <param name="time">The clock of the timer.</param>
    /// <returns>The persistence, holding the file until disposed.</returns>
    /// <exception cref="InvalidOperationException">Another ledger uses the file, or it cannot be written.</exception>
    /// <exception cref="InvalidDataException">The file exists but cannot be read.</exception>
    public static LedgerPersistence Open(string path, Action<LedgerFileDocument> restore, Func<LedgerFileDocument> snapshot, TimeSpan interval, TimeProvider time)
    {
        var file = LedgerFile.Open(path);
        try
        {
            if (file.Read() is { } document)
            {
                restore(document);
            }

            return new LedgerPersistence(file, snapshot, interval, time);
        }
        catch
        {
            file.Dispose();  // a ledger that failed to start must not keep the file from the next one
            throw;
        }
    }

    /// <summary>Notes that spend changed, so the next tick writes it.</summary>
    public void MarkChanged()
    {
        // Read first: settlements on every core would otherwise contend on one cache line for a flag that is almost always set.
        if (Volatile.Read(ref _dirty) == 0)
        {
            Volatile.Write(ref _dirty, 1);
        }
    }

    /// <summary>Writes the ledger's spend now.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is in place.</returns>
    /// <exception cref="ObjectDisposedException">The ledger was disposed (and its file released).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Stops the timer, writes spend one last time and releases the file.</summary>
    /// <remarks>
    /// The file is released while this holds the write lock: a timer write that was waiting then finds it released and writes nothing,
    /// so no write of this ledger can land after the next ledger on the file has read it.
    /// </remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _timer.Dispose();
        _writing.Wait();
        try
        {
            WriteAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        finally
        {
            _file.Dispose();
            _writing.Release();
        }
    }

    private Task WriteAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _dirty, 0);
        return _file.WriteAsync(_snapshot(), cancellationToken);
    }

    private async Task WriteIfChangedAsync()
    {
        if (Volatile.Read(ref _dirty) == 0)
        {
            return;
        }

        try
        {
            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next tick (or Dispose) writes again; spend stays exact in memory meanwhile.
            Interlocked.Exchange(ref _dirty, 1);
        }
        catch (ObjectDisposedException)
        {
            // A tick that raced disposal: the final write already happened.
        }
    }
}
