using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace InferenceRouter;

/// <summary>
/// Shares what quality routing learns between app instances through a Redis stream: every outcome one instance records
/// (<see cref="QualityPredictor.OutcomeRecorded"/>) is appended to <c>{prefix}:quality-outcomes</c>, and every other instance reads it
/// and learns it too (<see cref="QualityPredictor.ApplyOutcome"/>), so each instance decides from the whole fleet's outcomes. An
/// instance started later learns the stream's recent outcomes (<see cref="RedisQualitySyncOptions.MaxSharedOutcomes"/>) first.
/// </summary>
/// <remarks>
/// Only a prompt's text features and embedding travel, never its text. Best effort: an outcome that cannot be sent (Redis down) counts
/// on its own instance only, and a read that fails is retried. A predictor that loaded saved state (<see cref="QualityPredictorOptions.StatePath"/>)
/// already holds what it learned before, so it follows the stream from its end: outcomes recorded while it was down are not learned
/// again, nor counted twice. Dispose to stop sharing.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(ExperimentalApis.DiagnosticId)]
public sealed class RedisQualitySync : IDisposable
{
    private const int Page = 500;
    private readonly QualityPredictor _predictor;
    private readonly IDatabase _database;
    private readonly RedisKey _stream;
    private readonly RedisQualitySyncOptions _options;
    private readonly ILogger _logger;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _applied;

    /// <summary>Starts sharing <paramref name="predictor"/>'s outcomes.</summary>
    /// <param name="redis">The connection (not disposed here).</param>
    /// <param name="predictor">The predictor.</param>
    /// <param name="keyPrefix">Instances with the same prefix share outcomes. Default: <c>inference-router</c>.</param>
    /// <param name="options">The options; null for defaults.</param>
    /// <param name="logger">Logs reads that fail.</param>
    /// <exception cref="ArgumentException">The options or the prefix are invalid.</exception>
    public RedisQualitySync(IConnectionMultiplexer redis, QualityPredictor predictor, string keyPrefix = "inference-router", RedisQualitySyncOptions? options = null, ILogger<RedisQualitySync>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(predictor);
        if (RedisKeyPrefix.Problem(keyPrefix) is { } problem)
        {
            throw new ArgumentException(problem, nameof(keyPrefix));
        }

        _options = options ?? new RedisQualitySyncOptions();
        var problems = _options.GetValidationErrors().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        _predictor = predictor;
        _database = redis.GetDatabase();
        _stream = "{" + keyPrefix + "}:quality-outcomes";
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _predictor.OutcomeRecorded += Publish;
        _ = FollowAsync(_predictor.OutcomeCount > 0);
    }

    /// <summary>Gets how many outcomes recorded by other instances this one has learned.</summary>
    public long AppliedOutcomes => Interlocked.Read(ref _applied);

    /// <summary>Gets a task that completes once this instance has read the stream to its end the first time.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>Stops sharing.</summary>
    public void Dispose()
    {
        _predictor.OutcomeRecorded -= Publish;
        _stop.Cancel();
        _caughtUp.TrySetCanceled();
    }

    private void Publish(QualityOutcome outcome)
    {
        NameValueEntry[] fields =
        [
            new("i", _instance),
            new("t", outcome.Tier),
            new("s", outcome.Score.ToString("R", CultureInfo.InvariantCulture)),
            new("f", MemoryMarshal.AsBytes(outcome.Features.AsSpan()).ToArray()),
            new("e", MemoryMarshal.AsBytes(outcome.Embedding.AsSpan()).ToArray()),
        ];

        // Fire and forget: recording never waits on Redis; one that cannot be sent counts here only.
        _ = _database.StreamAddAsync(_stream, fields, maxLength: _options.MaxSharedOutcomes, useApproximateMaxLength: true, flags: CommandFlags.FireAndForget);
    }

    private async Task FollowAsync(bool fromEnd)
    {
        RedisValue last = "0-0";
        bool positioned = !fromEnd;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!positioned)
                {
                    var newest = await _database.StreamRangeAsync(_stream, "-", "+", 1, Order.Descending).ConfigureAwait(false);
                    last = newest.Length == 0 ? "0-0" : newest[0].Id;
                    positioned = true;
                }

                var entries = await _database.StreamReadAsync(_stream, last, Page).ConfigureAwait(false);
                foreach (var entry in entries)
                {
                    last = entry.Id;
                    if (Parse(entry) is { } outcome && _predictor.ApplyOutcome(outcome))
                    {
                        Interlocked.Increment(ref _applied);
                    }
                }

                if (entries.Length == Page)
                {
                    continue;
                }

                _caughtUp.TrySetResult();
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                RedisQualityLog.ReadFailed(_logger, e.Message);
            }
            catch (ObjectDisposedException)
            {
                return;  // the connection went first (a container disposes in its own order)
            }

            try
            {
                await Task.Delay(_options.PollInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads an entry another instance wrote; null for this instance's own, and for one that is not an outcome.</summary>
    private QualityOutcome? Parse(StreamEntry entry)
    {
        if (entry["i"] == _instance || !int.TryParse((string?)entry["t"], NumberStyles.Integer, CultureInfo.InvariantCulture, out int tier) ||
            !double.TryParse((string?)entry["s"], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) ||
            (byte[]?)entry["f"] is not { } features || (byte[]?)entry["e"] is not { } embedding || features.Length % sizeof(float) != 0 || embedding.Length % sizeof(float) != 0)
        {
            return null;
        }

        return new QualityOutcome(MemoryMarshal.Cast<byte, float>(features).ToArray(), MemoryMarshal.Cast<byte, float>(embedding).ToArray(), tier, score);
    }
}
