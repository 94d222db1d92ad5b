namespace InferenceRouter;

/// <summary>
/// Provider error text as the router repeats it (logs, <c>Activity</c> status, <see cref="AllRoutesFailedException"/>): one line, at most
/// <see cref="MaxLength"/> characters. Servers can echo request content or headers in their error messages; the full text stays on the
/// exception itself for the caller, never copied whole into telemetry.
/// </summary>
internal static class ErrorText
{
    public const int MaxLength = 200;

    public static string Of(Exception error)
    {
        var message = error.Message.AsSpan();
        int newline = message.IndexOfAny('\r', '\n');
        if (newline >= 0)
        {
            message = message[..newline];
        }

        return message.Length <= MaxLength ? message.ToString() : string.Concat(message[..MaxLength], "…");
    }
}
