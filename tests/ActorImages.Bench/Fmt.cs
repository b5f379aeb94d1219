using System.Globalization;

namespace ActorImages.Bench;

/// <summary>Number formats of the report: invariant culture, thousands separators.</summary>
internal static class Fmt
{
    /// <summary>A whole number with thousands separators, e.g. <c>1,862</c>.</summary>
    public static string N(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>One decimal, e.g. <c>26.6</c>.</summary>
    public static string D1(double value) => value.ToString("#,0.0", CultureInfo.InvariantCulture);

    /// <summary>Milliseconds: two decimals below 10, one below 100, else whole.</summary>
    public static string Ms(double ms) => double.IsNaN(ms) ? "n/a" : ms.ToString(ms < 10 ? "0.00" : ms < 100 ? "0.0" : "#,0", CultureInfo.InvariantCulture) + " ms";

    /// <summary>A ratio, e.g. <c>0.35x</c>.</summary>
    public static string X(double ratio) => double.IsNaN(ratio) || double.IsInfinity(ratio) ? "n/a" : ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    /// <summary>The local time of day, e.g. <c>08:15:02</c>.</summary>
    public static string Clock(DateTime at) => at.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
