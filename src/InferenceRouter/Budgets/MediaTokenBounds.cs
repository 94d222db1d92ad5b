namespace InferenceRouter;

/// <summary>
/// The input tokens a budget reserves for each media item of a prompt, by kind, whether it comes inline (bytes) or by reference (a URL or
/// a hosted file id): providers bill documents per page, audio and video per second and images by their size, none of which the request
/// says. Configured under <c>InferenceRouter:Budgets:MediaTokens</c>.
/// </summary>
/// <remarks>
/// The defaults are the most the providers we know bill for one item of each kind at the limits they accept; lower them to what your
/// application sends (e.g. <see cref="Document"/> = 10 × 2,500 when your PDFs have at most ten pages). A larger item is billed beyond the
/// reservation: the bound is yours to state. Text sent inline (<c>text/*</c>, <c>application/json</c>) counts its UTF-8 bytes instead.
/// </remarks>
public sealed class MediaTokenBounds
{
    /// <summary>Gets or sets the tokens per image (<c>image/*</c>): 2,500 by default, the most one image costs on OpenAI's patch-based models.</summary>
    public int Image { get; set; } = PromptTokens.TokensPerImage;

    /// <summary>
    /// Gets or sets the tokens per document (<c>application/pdf</c>, other <c>application/*</c> and <c>text/*</c> by reference): 250,000 by
    /// default, 100 pages (the most OpenAI and Anthropic accept in one PDF) at 2,500 tokens a page (its text and its image).
    /// </summary>
    public int Document { get; set; } = 250_000;

    /// <summary>Gets or sets the tokens per audio item (<c>audio/*</c>): 115,200 by default, one hour at 32 tokens a second (Gemini's rate).</summary>
    public int Audio { get; set; } = 115_200;

    /// <summary>Gets or sets the tokens per video (<c>video/*</c>): 1,080,000 by default, one hour at 300 tokens a second (Gemini's frames and sound).</summary>
    public int Video { get; set; } = 1_080_000;

    /// <summary>
    /// Gets or sets the tokens per item whose kind is not known (a hosted file with no media type, <c>application/octet-stream</c>, another
    /// top-level type): 1,080,000 by default, the largest default above, since it may be any of them.
    /// </summary>
    public int Other { get; set; } = 1_080_000;

    internal IEnumerable<string> GetValidationErrors(string path)
    {
        foreach (var (name, value) in new[] { (nameof(Image), Image), (nameof(Document), Document), (nameof(Audio), Audio), (nameof(Video), Video), (nameof(Other), Other) })
        {
            if (value <= 0)
            {
                yield return $"{path}:{name} is {value}; give the most input tokens one such item can be billed (a positive number), e.g. pages × 2,500 for documents.";
            }
        }
    }
}
