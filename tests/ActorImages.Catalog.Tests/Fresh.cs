using System.Security.Cryptography;
using System.Text;
using ActorImages.Messages;
using ActorImages.Testing;
using Npgsql;

namespace ActorImages.Catalog.Tests;

/// <summary>A fresh database per test, and entries to commit into it.</summary>
internal static class Fresh
{
    public static readonly Replica Node1 = new("akka.tcp://ActorImages@127.0.0.1:25520", "127.0.0.1");
    public static readonly Replica Node2 = new("akka.tcp://ActorImages@127.0.0.2:25520", "127.0.0.2");
    public static readonly Replica Node3 = new("akka.tcp://ActorImages@127.0.0.3:25520", "127.0.0.3");

    /// <summary>Entries are records holding arrays, which compare by reference: compare their contents.</summary>
    public static void Same(CatalogEntry expected, CatalogEntry? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Replicas = [] }, actual with { Replicas = [] });
        Assert.Equal(expected.Replicas, actual.Replicas);
    }

    /// <summary>As <see cref="Same(CatalogEntry, CatalogEntry?)"/>, for LST items.</summary>
    public static void Same(IEnumerable<Md5Listing> expected, IEnumerable<Md5Listing> actual) =>
        Assert.Equal(
            expected.Select(l => (l.Md5, l.Filename, l.FirstId, string.Join(",", l.Hosts))),
            actual.Select(l => (l.Md5, l.Filename, l.FirstId, string.Join(",", l.Hosts))));

    public static async Task<CatalogDatabase> DatabaseAsync() =>
        await CatalogDatabase.OpenAsync(await PostgresServer.CreateDatabaseAsync());

    public static string Md5Of(string content) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>An entry for <paramref name="content"/> (its md5 and sha256 are those of the text) at a reserved path.</summary>
    public static NewEntry Entry(string content, string path, string? filename = null, DateTimeOffset? at = null,
        IReadOnlyList<Replica>? replicas = null, string? importKey = null, long size = 1000) =>
        new(Md5Of(content),
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))),
            size,
            "image/jpeg",
            640,
            480,
            filename ?? path[(path.LastIndexOf('/') + 1)..],
            "tcp:10.0.0.9",
            SourceProtocol.P1Tcp,
            at ?? new DateTimeOffset(2026, 12, 2, 6, 24, 23, 123, TimeSpan.Zero),
            path,
            replicas ?? [Node1, Node2],
            importKey);

    /// <summary>Reserves a path and commits one entry for <paramref name="content"/>.</summary>
    public static async Task<CatalogEntry> CommitAsync(CatalogStore store, string content, string? filename = null,
        IReadOnlyList<Replica>? replicas = null, long size = 1000)
    {
        var at = DateTimeOffset.UtcNow;
        var path = (await store.ReserveNamesAsync([(at, "jpg")]))[0];
        return (await store.CommitAsync([Entry(content, path, filename, at, replicas, size: size)]))[0];
    }

    /// <summary>Commits 300 entries named <paramref name="prefix"/> and a number, held by <see cref="Node1"/> and
    /// <see cref="Node2"/>, in six batches of 50 through a pool of their own: the small catalog the plan-guard tests
    /// (<see cref="AssertIndexOnlyAsync"/>) start from.</summary>
    public static async Task SeedAsync(string connectionString, string prefix)
    {
        await using var seeding = await CatalogDatabase.OpenAsync(connectionString);
        var at = new DateTimeOffset(2026, 12, 2, 6, 24, 23, TimeSpan.Zero);
        for (var b = 0; b < 6; b++)
        {
            var paths = await seeding.Catalog.ReserveNamesAsync(Enumerable.Repeat((at, "jpg"), 50).ToList());
            await seeding.Catalog.CommitAsync(paths.Select((p, i) => Entry($"{prefix} {b} {i}", p)).ToList());
        }
    }

    /// <summary>
    /// Analyzes every table as it is now, runs <paramref name="writes"/> on a new pool (whose connections
    /// then prepare and plan their statements on those statistics) and asserts that the writes reached the table only
    /// by its index: the table's index scans grew by at least <paramref name="operations"/>, its sequential scans not at
    /// all (pg_stat_user_tables, reported by the pool's server processes as they exit).
    /// </summary>
    public static async Task AssertIndexOnlyAsync(string connectionString, string table, int operations,
        Func<CatalogDatabase, Task> writes)
    {
        await using var reader = new NpgsqlConnection(connectionString);
        await reader.OpenAsync();
        await using (var analyze = new NpgsqlCommand("ANALYZE", reader)) await analyze.ExecuteNonQueryAsync();
        var before = await ScansAsync(reader, table);
        await using (var db = await CatalogDatabase.OpenAsync(connectionString)) await writes(db);

        // Every operation reaches the table at least once, by a scan of one kind or the other.
        var after = before;
        for (var waited = 0; after.Sequential + after.Index < before.Sequential + before.Index + operations && waited < 100; waited++)
        {
            await Task.Delay(100);
            after = await ScansAsync(reader, table);
        }
        Assert.True(after.Sequential == before.Sequential && after.Index >= before.Index + operations,
            $"scans of {table} during {operations} operations: {after.Sequential - before.Sequential} sequential, "
            + $"{after.Index - before.Index} by index");
    }

    private static async Task<(long Sequential, long Index)> ScansAsync(NpgsqlConnection connection, string table)
    {
        // A transaction's first read of the statistics is cached until it ends: read them afresh each time.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", connection)) await clear.ExecuteNonQueryAsync();
        await using var command = new NpgsqlCommand(
            "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
