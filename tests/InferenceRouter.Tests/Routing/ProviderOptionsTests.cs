namespace InferenceRouter.Tests.Routing;

/// <summary>The options a provider receives: the caller's, every property kept, the router's hints removed, the caller's own untouched.</summary>
public class ProviderOptionsTests
{
    [Fact]
    public void A_copy_without_the_hints_keeps_every_other_property()
    {
        var options = new ChatOptions
        {
            AllowBackgroundResponses = true,
            AllowMultipleToolCalls = false,
            ContinuationToken = ResponseContinuationToken.FromBytes(new byte[] { 1 }),
            ConversationId = "c",
            FrequencyPenalty = 0.1f,
            Instructions = "i",
            MaxOutputTokens = 7,
            ModelId = "m",
            PresencePenalty = 0.2f,
            RawRepresentationFactory = _ => null,
            Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low },
            ResponseFormat = ChatResponseFormat.Json,
            Seed = 3,
            StopSequences = ["s"],
            Temperature = 0.3f,
            ToolMode = ChatToolMode.RequireAny,
            Tools = [AIFunctionFactory.Create(() => 1, "f")],
            TopK = 4,
            TopP = 0.5f,
        }.ForTenant("acme");
        options.AdditionalProperties!["other"] = "kept";

        var copy = ProviderOptions.CopyWithoutRouterEntries(options);
        var carried = CallContext.Capture(options).AttachTo(options); // what a layer hands the layer below
        var provided = ProviderOptions.CopyWithoutRouterEntries(carried);

        foreach (var property in typeof(ChatOptions).GetProperties().Where(p => p.CanWrite && p.Name != nameof(ChatOptions.AdditionalProperties)))
        {
            property.GetValue(copy).Should().Be(property.GetValue(options), $"{property.Name} must reach the provider");
            property.GetValue(carried).Should().Be(property.GetValue(options), $"{property.Name} must reach the layer below");
            property.GetValue(provided).Should().Be(property.GetValue(options), $"{property.Name} must reach the provider through the layers");
        }

        provided.GetType().Should().Be(typeof(ChatOptions), "a provider gets plain options");
        provided.AdditionalProperties.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, object?>("other", "kept"));

        copy.AdditionalProperties.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, object?>("other", "kept"));
        options.AdditionalProperties.Should().ContainKey(ChatOptionsRoutingExtensions.HintsKey, "the caller's options are never changed");
        ProviderOptions.CopyWithoutRouterEntries(new ChatOptions().ForTenant("acme")).AdditionalProperties.Should().BeNull();
    }
}
