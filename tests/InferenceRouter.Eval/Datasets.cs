using System.Globalization;
using System.Text.Json;

namespace InferenceRouter.Eval;

/// <summary>A labelled question pair: is <see cref="Second"/> the same question as <see cref="First"/>?</summary>
public sealed record QuestionPair(string First, string Second, bool IsDuplicate);

/// <summary>A sentence pair with a human similarity score (STS-B, 0–5).</summary>
public sealed record ScoredPair(string First, string Second, double Score);

/// <summary>Loads the evaluation files from ../shared/data.</summary>
public static class Datasets
{
    /// <summary>Reads <c>question1,question2,is_duplicate</c> (with a header).</summary>
    public static List<QuestionPair> LoadPairs(string path)
    {
        var rows = Csv.Read(path).ToList();
        var header = rows[0];
        int q1 = Array.IndexOf(header, "question1"), q2 = Array.IndexOf(header, "question2"), dup = Array.IndexOf(header, "is_duplicate");
        if (q1 < 0 || q2 < 0 || dup < 0)
        {
            throw new InvalidDataException($"'{path}' needs the columns question1,question2,is_duplicate; it has {string.Join(",", header)}.");
        }

        return [.. rows.Skip(1).Where(r => r.Length > Math.Max(q1, Math.Max(q2, dup))).Select(r => new QuestionPair(r[q1], r[q2], r[dup].Trim() is "1" or "true" or "True"))];
    }

    /// <summary>Reads STS-B rows <c>sentence1,sentence2,score</c> (no header).</summary>
    public static List<ScoredPair> LoadSts(string path) =>
        [.. Csv.Read(path).Where(r => r.Length >= 3).Select(r => new ScoredPair(r[0], r[1], double.Parse(r[2], CultureInfo.InvariantCulture)))];

    /// <summary>Reads GPTCache's mock file: <c>[{"origin": "…", "similar": "…"}]</c>.</summary>
    public static List<QuestionPair> LoadMock(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        return [.. document.RootElement.EnumerateArray().Select(e => new QuestionPair(e.GetProperty("origin").GetString()!, e.GetProperty("similar").GetString()!, true))];
    }
}
