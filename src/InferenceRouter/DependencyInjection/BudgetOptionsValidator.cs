using Microsoft.Extensions.Options;

namespace InferenceRouter;

/// <summary>Validates <see cref="BudgetOptions"/> at startup, reporting every problem with its fix.</summary>
internal sealed class BudgetOptionsValidator : IValidateOptions<BudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, BudgetOptions options)
    {
        var errors = options.GetValidationErrors().Select(e => "InferenceRouter:" + e).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
