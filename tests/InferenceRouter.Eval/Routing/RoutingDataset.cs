using System.Text.Json;

namespace InferenceRouter.Eval;

/// <summary>One labelled prompt: whether the weak and the strong model answered it correctly, and the file (subject) it came from.</summary>
public sealed record RoutingExample(string Prompt, bool WeakCorrect, bool StrongCorrect, string Subject)
{
    /// <summary>Gets how much the strong model gains here: 1, 0 or -1.</summary>
    public int Gain => (StrongCorrect ? 1 : 0) - (WeakCorrect ? 1 : 0);
}

/// <summary>Reads RouteLLM-format CSVs (<c>prompt,&lt;weak&gt;,&lt;strong&gt;</c> with True/False), dropping the prompts a <c>contaminated_prompts.jsonl</c> beside them lists.</summary>
public static class RoutingDataset
{
    /// <summary>Loads every CSV named (a file, or every <c>*.csv</c> in a directory).</summary>
    public static List<RoutingExample> Load(IEnumerable<string> paths)
    {
        var examples = new List<RoutingExample>();
        foreach (var path in paths)
        {
            var files = Directory.Exists(path) ? Directory.GetFiles(path, "*.csv").Order(StringComparer.Ordinal).ToArray() : [path];
            foreach (var file in files)
            {
                var contaminated = Contaminated(Path.GetDirectoryName(Path.GetFullPath(file))!);
                string subject = Path.GetFileNameWithoutExtension(file);
                foreach (var row in Csv.Read(file).Skip(1))
                {
                    if (row.Length < 3 || contaminated.Contains(row[0]))
                    {
                        continue;
                    }

                    examples.Add(new RoutingExample(row[0], Bool(row[1], file), Bool(row[2], file), subject));
                }
            }
        }

        return examples;
    }

    private static readonly Dictionary<string, HashSet<string>> s_contaminated = [];

    private static HashSet<string> Contaminated(string directory)
    {
        if (s_contaminated.TryGetValue(directory, out var set))
        {
            return set;
        }

        set = new HashSet<string>(StringComparer.Ordinal);
        var path = Path.Combine(directory, "contaminated_prompts.jsonl");
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("eval_prompt", out var prompt) && prompt.GetString() is { } text)
                {
                    set.Add(text);
                }
            }
        }

        return s_contaminated[directory] = set;
    }

    private static bool Bool(string value, string file) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException($"'{value}' in {file} is not True or False."),
    };
}
