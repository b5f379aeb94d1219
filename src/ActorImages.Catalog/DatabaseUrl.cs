using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// Reads the database setting the way <c>ACTORIMAGES_DB_URL</c> gives it: a libpq-style URL
/// (<c>postgresql://user[:password]@host[:port]/database[?sslmode=…]</c>, as <c>bin/postgres</c> prints it) or an
/// Npgsql connection string (<c>Host=…;Port=…;Username=…;Database=…</c>).
/// </summary>
public static class DatabaseUrl
{
    /// <summary>Turns a URL or a connection string into an Npgsql connection string.</summary>
    /// <param name="urlOrConnectionString">Either form; a URL starts with <c>postgresql://</c> or <c>postgres://</c>.</param>
    /// <returns>An Npgsql connection string.</returns>
    /// <exception cref="ArgumentException">The URL is malformed, or a query parameter is not one Npgsql knows.</exception>
    public static string ToConnectionString(string urlOrConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlOrConnectionString);
        var text = urlOrConnectionString.Trim();
        if (!text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            && !text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
        {
            // Validates it: a typo fails here, at startup, not on the first query.
            return new NpgsqlConnectionStringBuilder(text).ConnectionString;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"Not a PostgreSQL URL: {Redact(text)}", nameof(urlOrConnectionString));
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            // libpq spells "verify-full"; Npgsql's SslMode is VerifyFull.
            SetParameter(builder, key, key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? value.Replace("-", "") : value);
        }

        return builder.ConnectionString;
    }

    private static void SetParameter(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        // libpq's names for what Npgsql spells differently; anything else must be an Npgsql keyword.
        var npgsqlKey = key.ToLowerInvariant() switch
        {
            "sslmode" => "SSL Mode",
            "application_name" => "Application Name",
            "connect_timeout" => "Timeout",
            "target_session_attrs" => "Target Session Attributes",
            _ => key,
        };
        try
        {
            builder[npgsqlKey] = value;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"Unsupported database URL parameter '{key}': {e.Message}", e);
        }
    }

    private static string Redact(string url)
    {
        var at = url.IndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > scheme && scheme >= 0 ? url[..(scheme + 3)] + "…" + url[at..] : url;
    }
}
