using InferenceRouter;
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

var app = builder.Build();

app.MapPost("/chat", async (ChatRequest request, HttpRequest http, IChatClient chat, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Prompt))
    {
        return Results.BadRequest(new { error = "Send {\"prompt\": \"...\"}." });
    }

    var options = new ChatOptions { MaxOutputTokens = request.MaxOutputTokens ?? 256 };
    if (http.Headers["X-Tenant"].ToString() is { Length: > 0 } tenant)
    {
        options = options.ForTenant(tenant);
    }

    try
    {
        var response = await chat.GetResponseAsync(request.Prompt, options, cancellationToken);
        var info = response.GetRoutingInfo();
        return Results.Ok(new ChatAnswer(response.Text, info?.Route, info?.CacheHit?.ToString(), response.GetCost()?.Amount, info?.Attempts.Select(a => $"{a.Route}: {a.Outcome}").ToArray()));
    }
    catch (BudgetExceededException e)
    {
        return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status402PaymentRequired);
    }
    catch (AllRoutesFailedException e)
    {
        return Results.Json(new { error = e.Message.Split('\n')[0] }, statusCode: StatusCodes.Status503ServiceUnavailable);
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
/// <param name="MaxOutputTokens">The most output tokens; 256 when not given.</param>
internal sealed record ChatRequest(string Prompt, int? MaxOutputTokens = null);

/// <summary>The answer and how it was produced.</summary>
internal sealed record ChatAnswer(string Text, string? Route, string? CacheHit, decimal? Cost, string[]? Attempts);

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
