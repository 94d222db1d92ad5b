using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace InferenceRouter;

/// <summary>
/// What the ledger did while failing open and has yet to send to Redis, in order. With a journal file, each record is appended to it
/// (one JSON line) before the call goes on, read back when the ledger starts, and the file is emptied once Redis has everything: so
/// spend admitted while Redis was away survives this process being killed. The file is locked while open, so two live instances can
/// never share one. Thread-safe.
/// </summary>
/// <remarks>
/// Each record read back is checked (valid JSON, every field present and of its type, amounts not negative): one that is not — a line
/// cut short by a crash, or one written by hand or by another version — is logged, counted, appended to <c>&lt;journal&gt;.rejected</c>
/// as it was, and the rest are sent. A record the shared ledger refuses for good (<see cref="RejectOldest"/>) is set aside the same way.
/// A line set aside stays in the journal until it is emptied (once Redis has everything), so a restart before then sets it aside again.
/// </remarks>
internal sealed class FailOpenQueue : IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly ConcurrentQueue<FailOpenRecord> _records = new();
    private readonly object _gate = new();
    private readonly FileStream? _journal;
    private readonly string? _rejectedPath;
    private readonly ILogger _logger;
    private readonly RedisBudgetTelemetry? _telemetry;

    /// <summary>Opens the queue, reading back what a previous process left in <paramref name="journalPath"/> (null: memory only).</summary>
    /// <param name="journalPath">The journal file, or null to keep the queue in memory only.</param>
    /// <param name="logger">Logs what was read back and what was set aside.</param>
    /// <param name="telemetry">Counts records set aside; null for none.</param>
    /// <exception cref="InvalidOperationException">The journal is in use by another process, or cannot be opened.</exception>
    public FailOpenQueue(string? journalPath, ILogger logger, RedisBudgetTelemetry? telemetry = null)
    {
        _logger = logger;
        _telemetry = telemetry;
        if (journalPath is null)
        {
            return;
        }

        string path = Path.GetFullPath(journalPath);
        _rejectedPath = path + ".rejected";
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

        Load(path);
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

    /// <summary>Sets aside the oldest record for good (the shared ledger refuses it): logged, counted, appended to the rejected file, dropped from the queue.</summary>
    /// <param name="record">The oldest record (the one <see cref="TryPeek"/> gave).</param>
    /// <param name="reason">Why it cannot be sent.</param>
    public void RejectOldest(FailOpenRecord record, string reason)
    {
        SetAside(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, RedisJsonContext.Default.FailOpenRecord)), reason);
        RemoveOldest();
    }

    /// <summary>Closes the journal (what is left in it is read back by the next ledger that opens it).</summary>
    public void Dispose() => _journal?.Dispose();

    /// <summary>Why a record read back cannot be sent, or null: JSON that parses may still miss fields (they read as null or zero).</summary>
    internal static string? Problem(FailOpenRecord? record)
    {
        if (record is null)
        {
            return "the line is JSON null";
        }

        if (string.IsNullOrEmpty(record.Id))
        {
            return "it has no id";
        }

        if (record.Accounts is not { Length: > 0 } accounts)
        {
            return "it has no accounts";
        }

        foreach (var account in accounts)
        {
            if (account.Key.Limit is null || account.Key.ScopeValue is null)
            {
                return "an account has no limit name or scope value";
            }

            if (account.Limit < 0 || account.RollingPeriod < TimeSpan.Zero)
            {
                return $"account {account.Key} has a negative limit or rolling period";
            }
        }

        if (record.Amount < 0 || record.Cost < 0)
        {
            return "its amount or cost is negative";
        }

        if (record.ExpiresAt == default)
        {
            return "it has no expiry";
        }

        return record.Released && record.Cost is not null ? "it is both settled and released" : null;
    }

    private void Load(string path)
    {
        var content = new byte[_journal!.Length];
        _journal.ReadExactly(content);
        int rejected = 0;
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

            string? problem;
            FailOpenRecord? record = null;
            try
            {
                record = JsonSerializer.Deserialize(line, RedisJsonContext.Default.FailOpenRecord);
                problem = Problem(record);
            }
            catch (JsonException e)
            {
                // A line cut short by a crash mid-write never returned to its call (an earlier open record's expiry still charges it).
                problem = $"it is not a record ({e.Message})";
            }

            if (problem is null)
            {
                _records.Enqueue(record!);
            }
            else
            {
                SetAside(line.ToArray(), problem);
                rejected++;
            }
        }

        if (content.Length > 0 && content[^1] != (byte)'\n')
        {
            _journal.Write(NewLine);
        }

        if (!_records.IsEmpty || rejected > 0)
        {
            RedisBudgetLog.JournalLoaded(_logger, _records.Count, path, rejected);
        }
    }

    /// <summary>Logs and counts a record that will not be sent, and appends it to the rejected file (with a journal).</summary>
    private void SetAside(byte[] line, string reason)
    {
        _telemetry?.Rejected();
        RedisBudgetLog.RecordRejected(_logger, _rejectedPath ?? "the log only (no journal)", reason, Encoding.UTF8.GetString(line));
        if (_rejectedPath is null)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                using var rejected = new FileStream(_rejectedPath, FileMode.Append, FileAccess.Write, FileShare.Read);
                rejected.Write(line);
                rejected.Write(NewLine);
                rejected.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The log above holds the record too.
        }
    }
}
