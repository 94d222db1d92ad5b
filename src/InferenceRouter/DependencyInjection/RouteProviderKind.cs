namespace InferenceRouter;

/// <summary>The kinds of provider a route can be built for from configuration.</summary>
public enum RouteProviderKind
{
    /// <summary>OpenAI's API (<c>ApiKey</c> or <c>OPENAI_API_KEY</c>; <c>Endpoint</c> optional).</summary>
    OpenAI,

    /// <summary>Azure OpenAI through its OpenAI-compatible v1 API (<c>Endpoint</c> = the resource URL, <c>Model</c> = the deployment, <c>ApiKey</c> or <c>AZURE_OPENAI_API_KEY</c>).</summary>
    AzureOpenAI,

    /// <summary>Any OpenAI-compatible endpoint: vLLM, Together, Fireworks, Baseten, Groq, Ollama's <c>/v1</c>, LM Studio (<c>Endpoint</c> = base URL ending in <c>/v1</c>; key optional).</summary>
    OpenAICompatible,

    /// <summary>Anthropic's Messages API through the official <c>Anthropic</c> SDK (<c>ApiKey</c> or <c>ANTHROPIC_API_KEY</c>; <c>Endpoint</c> optional).</summary>
    Anthropic,

    /// <summary>Ollama's native chat API through <c>OllamaSharp</c> (<c>Endpoint</c> = the server, default <c>http://localhost:11434</c>; no key).</summary>
    Ollama,

    /// <summary>Any <c>IChatClient</c> registered in dependency injection with the key <c>ServiceKey</c>: a provider this library does not know still gets routed.</summary>
    Keyed,
}
