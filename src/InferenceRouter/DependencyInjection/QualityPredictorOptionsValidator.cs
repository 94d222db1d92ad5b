using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>Validates <see cref="QualityPredictorOptions"/> at startup, naming each bad value and how to fix it.</summary>
internal sealed class QualityPredictorOptionsValidator : IValidateOptions<QualityPredictorOptions>
{
    public ValidateOptionsResult Validate(string? name, QualityPredictorOptions options)
    {
        var problems = options.GetValidationErrors().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
