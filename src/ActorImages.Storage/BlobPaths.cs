using System.Globalization;

namespace ActorImages.Storage;

/// <summary>
/// The names of stored images, as the seed promised: <c>YYYY-MM-DD/HHMMSS.&lt;ext&gt;</c> under the data directory,
/// date and time of receipt in UTC as the Java version did; the second image of the same second is
/// <c>HHMMSS-1.&lt;ext&gt;</c>, then <c>-2</c>, ... (docs/protocols.md, P1 "Storage": the seed overwrote, we never
/// do). The catalog picks the suffix; <see cref="BlobStore.CommitAsync"/> refuses a taken name.
/// </summary>
public static class BlobPaths
{
    /// <summary>The day folder of a moment: <c>yyyy-MM-dd</c> in UTC, e.g. <c>2026-12-02</c>.</summary>
    /// <param name="received">the moment of receipt, any offset</param>
    public static string Day(DateTimeOffset received) =>
        received.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The file name of an image: <c>HHmmss.jpg</c> for suffix 0, <c>HHmmss-1.jpg</c> for 1, ... (UTC).</summary>
    /// <param name="received">the moment of receipt, any offset</param>
    /// <param name="format">decides the extension</param>
    /// <param name="suffix">0 for the first image of that second, then 1, 2, ...</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="suffix"/> is negative</exception>
    public static string StoredName(DateTimeOffset received, ImageFormat format, int suffix)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(suffix);
        var second = received.UtcDateTime.ToString("HHmmss", CultureInfo.InvariantCulture);
        return suffix == 0
            ? $"{second}.{format.Extension()}"
            : $"{second}-{suffix.ToString(CultureInfo.InvariantCulture)}.{format.Extension()}";
    }

    /// <summary>The path relative to the data directory, <c>/</c>-separated: <c>2026-12-02/062423-1.jpg</c>.</summary>
    /// <param name="day">from <see cref="Day"/></param>
    /// <param name="name">from <see cref="StoredName"/></param>
    /// <exception cref="ArgumentException">either part is empty, <c>.</c>, <c>..</c> or holds a separator</exception>
    public static string RelativePath(string day, string name)
    {
        RequireSegment(day, nameof(day));
        RequireSegment(name, nameof(name));
        return $"{day}/{name}";
    }

    private static void RequireSegment(string value, string parameter)
    {
        if (string.IsNullOrWhiteSpace(value) || value is "." or ".." || value.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
        {
            throw new ArgumentException($"not a single path segment: '{value}'", parameter);
        }
    }
}
