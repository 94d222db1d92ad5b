namespace InferenceRouter.TestServer;

/// <summary>Ways a scripted response can go wrong at the connection level.</summary>
public enum ServerFault
{
    /// <summary>No fault.</summary>
    None,

    /// <summary>The connection is dropped before any response bytes.</summary>
    DropBeforeResponse,

    /// <summary>The stream starts, then the connection is dropped after <see cref="ServerBehavior.DropAfterChunks"/> chunks.</summary>
    DropMidStream,

    /// <summary>A 200 response whose body is not valid JSON.</summary>
    MalformedBody,
}
