namespace InferenceRouter.Tests;

/// <summary>Shorthands for building routes and routers in tests.</summary>
internal static class Routes
{
    public static ChatRoute Of(string name, IChatClient client, Func<RouteDescriptor, RouteDescriptor>? describe = null)
    {
        var descriptor = new RouteDescriptor(name) { ModelId = name + "-model", Capabilities = RouteCapabilities.All };
        return new ChatRoute(describe is null ? descriptor : describe(descriptor), client);
    }

    public static RouterChatClient Router(RouterOptions? options, params ChatRoute[] routes) => new(routes, options);

    public static RouterChatClient Router(params ChatRoute[] routes) => new(routes);

    public static List<ChatMessage> Prompt(string text = "Hello?") => [new ChatMessage(ChatRole.User, text)];
}
