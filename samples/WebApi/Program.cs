using System.Text.Json;
using InferenceRouter;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.AI;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// WebApi: the router behind an HTTP endpoint. Routes, budgets and policies come from appsettings.json; the tenant from the
// X-Tenant header; a semantic cache answers paraphrases on the device; traces and metrics go to the console (OpenTelemetry).
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddEmbeddingGenerator(_ => new OnnxEmbeddingGenerator());   // all-MiniLM-L6-v2, on the device
builder.Services.AddInferenceRouter(builder.Configuration.GetSection(InferenceRouterOptions.SectionName))
    .UseSemanticCache()      // outermost: a hit takes no route and costs nothing
    .UseBudgets();           // per-tenant limits from InferenceRouter:Budgets

if (builder.Configuration.GetValue("Telemetry:Console", true))
{
    builder.Services.AddOpenTelemetry()
        .WithTracing(t => t.AddSource(InferenceRouterTelemetry.SourceName).AddConsoleExporter())
        .WithMetrics(m => m.AddMeter(InferenceRouterTelemetry.MeterName).AddConsoleExporter());
}

// A body that is not the JSON asked for (a string where a number goes, a number too big, no body) is a 400 naming the field too,
// not an empty 400: the binder's error is thrown to the handler below instead of being answered bare.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

var app = builder.Build();

app.UseExceptionHandler(handler => handler.Run(async context =>
{
    var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
    IResult result = error is BadHttpRequestException bad
        ? Results.ValidationProblem(ChatRequest.BindingProblem(bad))
        : Results.Problem("The server failed to handle the request.", statusCode: StatusCodes.Status500InternalServerError);
    await result.ExecuteAsync(context);
}));

app.MapPost("/chat", async (ChatRequest request, HttpRequest http, IChatClient chat, ILogger<ChatRequest> logger, CancellationToken cancellationToken) =>
{
    // Bad input is the caller's to fix: 400 with a problem-details body naming each field.
    var tenant = http.Headers["X-Tenant"];
    if (ChatRequest.Validate(request, tenant) is { Count: > 0 } problems)
    {
        return Results.ValidationProblem(problems);
    }

    // Every call has a tenant (the header is required above), so each is counted against that tenant's limits.
    var options = new ChatOptions { MaxOutputTokens = request.MaxOutputTokens ?? 256 }.ForTenant(tenant.ToString());
    try
    {
        var response = await chat.GetResponseAsync(request.Prompt, options, cancellationToken);
        var info = response.GetRoutingInfo();
        return Results.Ok(new ChatAnswer(response.Text, info?.Route, info?.CacheHit?.ToString(), response.GetCost()?.Amount, info?.Attempts.Select(a => $"{a.Route}: {a.Outcome}").ToArray()));
    }
    catch (BudgetExceededException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status402PaymentRequired, title: "Budget exceeded");
    }
    catch (AllRoutesFailedException e)
    {
        // The router's message names routes and statuses, never the prompt or a key; its first line is enough for a caller.
        return Results.Problem(e.Message.Split('\n')[0], statusCode: StatusCodes.Status503ServiceUnavailable, title: "No model provider could answer");
    }
    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
    {
        // A provider refused the request (a 400, 401 or 404 surfaces as the provider SDK's exception). Its text can echo the prompt or
        // the key, so neither the answer nor the log repeats it: the type is enough to find the route's warning in the router's log.
        logger.LogWarning("A chat call failed with {ErrorType}; the router's log names the route and status.", e.GetType().FullName);
        return Results.Problem("The model provider refused the request.", statusCode: StatusCodes.Status502BadGateway, title: "Model provider error");
    }
});

app.MapGet("/routes", (RouterChatClient router) => router.GetHealth().Select(h => new
{
    h.Route,
    Circuit = h.CircuitState.ToString(),
    h.Attempts,
    h.Failures,
    LatencyMs = h.Latency?.TotalMilliseconds,
    h.InFlight,
}));

app.MapGet("/spend", async (BudgetManager budgets, CancellationToken cancellationToken) => await budgets.GetReportAsync(cancellationToken));

app.Run();

/// <summary>A chat request.</summary>
/// <param name="Prompt">The user's message.</param>
/// <param name="MaxOutputTokens">The most output tokens, 1 to <see cref="MaxOutputTokensLimit"/>; 256 when not given.</param>
internal sealed record ChatRequest(string Prompt, int? MaxOutputTokens = null)
{
    /// <summary>The field a body that could not be read as a <see cref="ChatRequest"/> got wrong (from the JSON path), else the body itself.</summary>
    /// <param name="error">The binder's error.</param>
    /// <returns>The problem, by field.</returns>
    public static Dictionary<string, string[]> BindingProblem(BadHttpRequestException error)
    {
        var path = (error.InnerException as JsonException)?.Path?.TrimStart('$', '.');
        return string.IsNullOrEmpty(path)
            ? new() { ["body"] = ["The body must be JSON: {\"prompt\": \"...\", \"maxOutputTokens\": 256}."] }
            : new() { [path] = [$"{path} has the wrong type or is out of range."] };
    }

    /// <summary>The most output tokens a request may ask for.</summary>
    public const int MaxOutputTokensLimit = 1_000_000;

    /// <summary>Lists what is wrong with a request and its <c>X-Tenant</c> header, by field; empty when it may go on.</summary>
    public static Dictionary<string, string[]> Validate(ChatRequest? request, Microsoft.Extensions.Primitives.StringValues tenant)
    {
        var problems = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request?.Prompt))
        {
            problems["prompt"] = ["Send the user's message: {\"prompt\": \"...\"}."];
        }

        if (request?.MaxOutputTokens is < 1 or > MaxOutputTokensLimit)
        {
            problems["maxOutputTokens"] = [$"Give 1 to {MaxOutputTokensLimit} output tokens, or leave it out for 256."];
        }

        // Budgets are per tenant: a call without one would be counted against no tenant's limit, so the header is required.
        if (tenant.Count != 1 || tenant.ToString() is not { Length: > 0 and <= BudgetManager.MaxIdLength } id || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@'))
        {
            problems["X-Tenant"] = [$"Send one X-Tenant header: the tenant's id, 1 to {BudgetManager.MaxIdLength} letters, digits or - _ . : @."];
        }

        return problems;
    }
}

/// <summary>The answer and how it was produced.</summary>
internal sealed record ChatAnswer(string Text, string? Route, string? CacheHit, decimal? Cost, string[]? Attempts);

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
