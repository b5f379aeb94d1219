using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>The one way an entry is read: the images columns and its replicas, aggregated in replica order.</summary>
internal static class CatalogRows
{
    private const string Columns = """
        i.id, i.md5, i.sha256, i.size, i.media_type, i.width, i.height, i.filename, i.uploader, i.protocol,
        i.received_at, i.path, r.addresses, r.hosts
        """;

    private const string From = """

        FROM images i
        LEFT JOIN LATERAL (
            SELECT array_agg(address ORDER BY position) AS addresses, array_agg(host ORDER BY position) AS hosts
            FROM replicas WHERE image_id = i.id) r ON true
        """;

    /// <summary>Select list and FROM clause; the images table is <c>i</c>. Append WHERE / ORDER BY / LIMIT.</summary>
    public const string Select = "SELECT " + Columns + From;

    /// <summary>As <see cref="Select"/>, with the import key as column 14.</summary>
    public const string SelectWithImportKey = "SELECT " + Columns + ", i.import_key" + From;

    public static CatalogEntry Read(NpgsqlDataReader reader)
    {
        var addresses = reader.IsDBNull(12) ? [] : reader.GetFieldValue<string[]>(12);
        var hosts = reader.IsDBNull(13) ? [] : reader.GetFieldValue<string[]>(13);
        var replicas = new Replica[addresses.Length];
        for (var k = 0; k < replicas.Length; k++)
        {
            replicas[k] = new Replica(addresses[k], hosts[k]);
        }

        return new CatalogEntry(
            reader.GetInt64(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.GetInt64(3),
            reader.GetString(4),
            reader.GetInt32(5),
            reader.GetInt32(6),
            reader.GetString(7),
            reader.GetString(8),
            Enum.Parse<SourceProtocol>(reader.GetString(9)),
            reader.GetFieldValue<DateTimeOffset>(10),
            reader.GetString(11),
            replicas);
    }

    public static async Task<List<CatalogEntry>> ReadAllAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var entries = new List<CatalogEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(Read(reader));
        }

        return entries;
    }

    public static async Task<List<CatalogEntry>> QueryAsync(
        NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAllAsync(reader, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receipt times are kept to the millisecond (CatalogEntry.ReceivedAt), in UTC.</summary>
    public static DateTime ToStoredTime(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTime(ticks - (ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
    }
}
