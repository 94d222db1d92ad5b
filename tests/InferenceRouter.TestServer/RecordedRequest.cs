using System.Text.Json.Nodes;

namespace InferenceRouter.TestServer;

/// <summary>A request the fake server received.</summary>
/// <param name="Number">Its 1-based number on this server.</param>
/// <param name="Model">The <c>model</c> field.</param>
/// <param name="Stream">The <c>stream</c> field.</param>
/// <param name="Body">The whole JSON body.</param>
public sealed record RecordedRequest(int Number, string? Model, bool Stream, JsonObject Body)
{
    /// <summary>Gets the path it was sent to, which says the wire format (<c>/v1/chat/completions</c>, <c>/v1/messages</c>, <c>/api/chat</c>).</summary>
    public string Path { get; init; } = "/v1/chat/completions";
}
