using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace InferenceRouter;

/// <summary>What every attempt of one call shares (internal to the router).</summary>
internal readonly record struct RouterCall(
    IEnumerable<ChatMessage> Messages,
    ChatOptions? Options,
    CallContext Context,
    bool StripEntries,
    bool Streaming,
    CancellationToken CallerToken,
    Activity? Activity,
    string PolicyName,
    RouteSelection Selection,
    IRouteAttemptHook[] Hooks);
