namespace InferenceRouter;

/// <summary>
/// The provider time one attempt gets (internal to the router): <see cref="First"/> until the first streamed update or the answer,
/// <see cref="Total"/> for the whole attempt (streams: the time spent waiting for the provider, the caller's reading left out).
/// </summary>
/// <param name="First">The first timeout: <c>TimeToFirstTokenTimeout</c> (streams, when set), else <c>AttemptTimeout</c>; null for none.</param>
/// <param name="Total">The attempt's timeout, <c>AttemptTimeout</c>; null for none.</param>
/// <param name="FirstIsTimeToFirstToken">Whether <see cref="First"/> is <c>TimeToFirstTokenTimeout</c>.</param>
internal readonly record struct AttemptTimeouts(TimeSpan? First, TimeSpan? Total, bool FirstIsTimeToFirstToken)
{
    /// <summary>The timeouts of a call: streams get <c>TimeToFirstTokenTimeout</c> first when it is set.</summary>
    public static AttemptTimeouts For(RouterOptions options, bool streaming) =>
        streaming && options.TimeToFirstTokenTimeout is { } ttft
            ? new(ttft, options.AttemptTimeout, true)
            : new(options.AttemptTimeout, options.AttemptTimeout, false);

    /// <summary>Gets a value indicating whether any timeout applies.</summary>
    public bool Any => First is not null || Total is not null;
}
