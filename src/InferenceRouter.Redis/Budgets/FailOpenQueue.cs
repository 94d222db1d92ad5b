using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>
/// What the ledger did while failing open and has yet to send to Redis, in order. With a journal file, each record is appended to it
/// (one JSON line) before the call goes on, read back when the ledger starts, and the file is emptied once Redis has everything: so
/// spend admitted while Redis was away survives this process being killed. The file is locked while open, so two live instances can
/// never share one. Thread-safe.
/// </summary>
internal sealed class FailOpenQueue : IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly ConcurrentQueue<FailOpenRecord> _records = new();
    private readonly object _gate = new();
    private readonly FileStream? _journal;

    /// <summary>Opens the queue, reading back what a previous process left in <paramref name="journalPath"/> (null: memory only).</summary>
    /// <exception cref="InvalidOperationException">The journal is in use by another process, or cannot be opened.</exception>
    public FailOpenQueue(string? journalPath, ILogger logger)
    {
        if (journalPath is null)
        {
            return;
        }

        string path = Path.GetFullPath(journalPath);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            _journal = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"The fail-open journal '{path}' cannot be opened ({e.Message}). It is locked while a ledger uses it: give each app instance its own FailOpenJournalPath.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException($"The fail-open journal '{path}' cannot be opened ({e.Message}); set FailOpenJournalPath to a file this process may write.", e);
        }

        Load(path, logger);
    }

    /// <summary>Gets how many records are still to be sent.</summary>
    public int Count => _records.Count;

    /// <summary>Writes a record to the journal, then queues it.</summary>
    /// <exception cref="IOException">The journal could not be written (the record is not queued).</exception>
    public void Add(FailOpenRecord record)
    {
        lock (_gate)
        {
            if (_journal is not null)
            {
                _journal.Write(JsonSerializer.SerializeToUtf8Bytes(record, RedisJsonContext.Default.FailOpenRecord));
                _journal.Write(NewLine);
                _journal.Flush();  // to the OS: survives this process being killed
            }

            _records.Enqueue(record);
        }
    }

    /// <summary>Gets the oldest record not yet sent.</summary>
    public bool TryPeek(out FailOpenRecord record) => _records.TryPeek(out record!);

    /// <summary>Drops the oldest record (Redis has it); empties the journal when nothing is left.</summary>
    public void RemoveOldest()
    {
        lock (_gate)
        {
            _records.TryDequeue(out _);
            if (_records.IsEmpty && _journal is { Length: > 0 })
            {
                _journal.SetLength(0);
                _journal.Flush(flushToDisk: true);
            }
        }
    }

    /// <summary>Closes the journal (what is left in it is read back by the next ledger that opens it).</summary>
    public void Dispose() => _journal?.Dispose();

    private void Load(string path, ILogger logger)
    {
        var content = new byte[_journal!.Length];
        _journal.ReadExactly(content);
        int unreadable = 0;
        for (int start = 0; start < content.Length;)
        {
            int length = content.AsSpan(start).IndexOf((byte)'\n');
            length = length < 0 ? content.Length - start : length;
            var line = content.AsSpan(start, length);
            start += length + 1;
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                _records.Enqueue(JsonSerializer.Deserialize(line, RedisJsonContext.Default.FailOpenRecord) ?? throw new JsonException("null"));
            }
            catch (JsonException)
            {
                unreadable++;  // cut short by a crash mid-write: that step never returned (an earlier open record's expiry still charges it)
            }
        }

        if (content.Length > 0 && content[^1] != (byte)'\n')
        {
            _journal.Write(NewLine);
        }

        if (!_records.IsEmpty || unreadable > 0)
        {
            RedisBudgetLog.JournalLoaded(logger, _records.Count, path, unreadable);
        }
    }
}
