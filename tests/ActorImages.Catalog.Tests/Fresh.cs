using System.Security.Cryptography;
using System.Text;
using ActorImages.Messages;
using ActorImages.Testing;

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
}
