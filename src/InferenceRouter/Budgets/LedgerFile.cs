using System.Text.Json;

namespace InferenceRouter;

/// <summary>
/// The file an <see cref="InMemoryBudgetLedger"/> keeps its spend in, held for one ledger at a time: opening it takes a lock that is
/// kept until disposal, so a second ledger on the same path (a new instance started while the old one runs, as in a rolling deploy)
/// fails at start instead of each silently writing its own spend over the other's.
/// </summary>
/// <remarks>
/// <para>
/// The lock is a sibling file (<c>&lt;path&gt;.lock</c>) opened exclusively (on Unix an advisory <c>flock</c>, which also holds between
/// two ledgers of one process): the spend file itself is replaced by a rename at every write, which would leave a lock on it behind on
/// the old file. The operating system drops the lock when its process dies, so a lock file left by a killed process never blocks the
/// next one.
/// </para>
/// <para>
/// The lock file is never deleted. Deleting it on release would let a ledger that opened it just before lock the deleted file while a
/// third creates and locks a new one under the same name: two ledgers on one spend file. An empty <c>.lock</c> file stays beside the
/// spend file. Writes are serialised by the caller. .NET's <c>System.IO.DisableFileLocking</c> switch (or <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>)
/// turns this lock off; do not set it for an app that persists spend.
/// </para>
/// </remarks>
internal sealed class LedgerFile : IDisposable
{
    private readonly FileStream _lock;

    private LedgerFile(string path, FileStream @lock)
    {
        Path = path;
        _lock = @lock;
    }

    /// <summary>Gets the spend file's full path.</summary>
    public string Path { get; }

    /// <summary>Takes the file for this ledger.</summary>
    /// <param name="path">The spend file.</param>
    /// <returns>The file, locked until disposed.</returns>
    /// <exception cref="InvalidOperationException">Another ledger uses the file, or its directory cannot be written.</exception>
    public static LedgerFile Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            return new LedgerFile(full, new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1));
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"The budget ledger file '{full}' cannot be opened ({e.Message}). It is locked while a ledger uses it: give each app instance its own PersistencePath, or stop the other instance first.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException($"The budget ledger file '{full}' cannot be opened ({e.Message}); set PersistencePath to a file this process may write.", e);
        }
    }

    /// <summary>Reads the spend saved in the file.</summary>
    /// <returns>The document; null when there is no file yet.</returns>
    /// <exception cref="InvalidDataException">The file exists but cannot be read.</exception>
    public LedgerFileDocument? Read()
    {
        ObjectDisposedException.ThrowIf(!_lock.CanRead, this);
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(Path);
            return JsonSerializer.Deserialize(stream, BudgetJsonContext.Default.LedgerFileDocument);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The budget ledger file '{Path}' is not valid ({e.Message}). Restore it from a backup, or delete it to start spend from zero.", e);
        }
    }

    /// <summary>Replaces the file's content atomically: a temporary file, then a rename, so a crash mid-write leaves the old content.</summary>
    /// <param name="document">The spend to write.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is in place.</returns>
    /// <exception cref="ObjectDisposedException">The file was released: another ledger may own it now.</exception>
    public async Task WriteAsync(LedgerFileDocument document, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(!_lock.CanRead, this);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            await JsonSerializer.SerializeAsync(stream, document, BudgetJsonContext.Default.LedgerFileDocument, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, Path, overwrite: true);
    }

    /// <summary>Releases the file (unlocks the lock file, which stays) for the next ledger.</summary>
    public void Dispose() => _lock.Dispose();
}
