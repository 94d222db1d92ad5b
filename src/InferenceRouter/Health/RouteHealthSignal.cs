namespace InferenceRouter;

/// <summary>
/// Something one router learned about a route that others should honour: a provider asked callers to wait, a circuit opened, an
/// operator drained or restored it. <see cref="RouterChatClient.HealthSignaled"/> raises them; <see cref="RouterChatClient.ApplyHealthSignal"/>
/// applies one learned elsewhere (e.g. by another app instance, through Redis).
/// </summary>
/// <param name="Route">The route's name.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Until">Until when the route should be left alone (<see cref="RouteHealthSignalKind.RetryAfter"/>, <see cref="RouteHealthSignalKind.CircuitOpened"/>).</param>
public readonly record struct RouteHealthSignal(string Route, RouteHealthSignalKind Kind, DateTimeOffset? Until = null);
