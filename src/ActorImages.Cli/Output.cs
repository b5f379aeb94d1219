using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ActorImages.Cli;

/// <summary>
/// Where a command writes: results to <see cref="Out"/> (tables, JSON, summaries: what a script reads); progress
/// bars, hints and errors to <see cref="Err"/>. One per run, so tests capture both.
/// </summary>
/// <param name="Out">Results.</param>
/// <param name="Err">Progress bars, hints, errors.</param>
/// <param name="Verbose"><c>--verbose</c>: stack traces with errors, one line per file.</param>
/// <param name="Progress">Whether to draw progress bars (<c>--progress</c>/<c>--no-progress</c>, else only when
/// stderr is a terminal).</param>
internal sealed record Output(TextWriter Out, TextWriter Err, bool Verbose, bool Progress)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Names such as "fotó.jpg" stay readable; the output is for people and scripts, not for HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Prints <paramref name="value"/> as indented JSON, camelCase keys, on <see cref="Out"/>.</summary>
    public void PrintJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>Prints a line on <see cref="Err"/> when <c>--verbose</c>.</summary>
    public void Detail(string line)
    {
        if (Verbose)
        {
            Err.WriteLine(line);
        }
    }

    /// <summary><paramref name="bytes"/> as megabytes (10^6 bytes) with one decimal, e.g. <c>1.3 MB</c>.</summary>
    public static string Megabytes(long bytes) => (bytes / 1_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    /// <summary><paramref name="n"/> and <paramref name="noun"/>, with an <c>s</c> unless n is 1.</summary>
    public static string Count(long n, string noun) => n + " " + noun + (n == 1 ? "" : "s");
}

/// <summary>
/// A plain text table for people: a header row in capitals, columns separated by two spaces, no borders, the last
/// column unpadded. Scripts use <c>--json</c> instead.
/// </summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [headers];

    /// <summary>Adds a row; null cells print as <c>-</c>.</summary>
    public Table Add(params object?[] cells)
    {
        _rows.Add(Enumerable.Range(0, headers.Length)
            .Select(i => i < cells.Length && cells[i] is { } cell ? Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "-" : "-")
            .ToArray());
        return this;
    }

    /// <summary>Prints the table on <paramref name="writer"/>.</summary>
    public void Print(TextWriter writer)
    {
        int[] width = Enumerable.Range(0, headers.Length).Select(i => _rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in _rows)
        {
            var line = string.Concat(row.Select((cell, i) => i < row.Length - 1 ? cell.PadRight(width[i] + 2) : cell));
            writer.WriteLine(line.TrimEnd());
        }
    }
}
