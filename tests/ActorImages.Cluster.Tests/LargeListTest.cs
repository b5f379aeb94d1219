using System.Text.RegularExpressions;
using ActorImages.Catalog;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// P2 <c>LIST</c> of a large catalog against the unchanged seed-001 client (docs/protocols.md, P2): the client's
/// library drops a message over 1 MiB, so the reply lists the newest uploads that fit; and the reply, far over the
/// node's 64 KiB threshold, is sent uncompressed although the client negotiated permessage-deflate, which the client
/// must read all the same. One node on 127.0.36.1 over a catalog filled with 30,000 synthetic entries before it starts.
/// </summary>
public sealed class LargeListTest : IAsyncLifetime
{
    private const int Entries = 30_000;
    private TestCluster _cluster = null!;
    private string _newest = "";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var dbUrl = await PostgresServer.CreateDatabaseUrlAsync();
        await using (var database = await CatalogDatabase.OpenAsync(dbUrl))
        {
            await database.Catalog.FillSyntheticAsync(Entries);
            _newest = (await database.Catalog.NewestNamesAsync(1))[0].Filename;
        }
        _cluster = await TestCluster.StartAsync(subnet: 36, count: 1, dbUrl: dbUrl);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Seed001ListsTheNewestUploadsThatFitOneMebibyte()
    {
        LegacyPython.Require();
        var list = await LegacyPython.RunAsync(TimeSpan.FromSeconds(60), "seed001_client.py",
            $"ws://{_cluster[1].Host}:8765/", "bob", "list");
        Assert.True(list.Exit == 0, list.Describe());

        var names = Regex.Matches(list.Output, @"^- (\S+) \| uploader: ", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();
        // About 60 bytes a row: far more than 64 KiB, fewer than all 30,000 (that would be ~1.8 MiB).
        Assert.InRange(names.Count, 5_000, Entries - 1);
        Assert.Equal(_newest, names[^1]);
        Assert.Equal(names.Count, names.Distinct().Count());

        // The same reply through a plain client: one text message within 1 MiB.
        await using var p2 = await LegacyWire.P2.ConnectAsync(_cluster[1].Host);
        await p2.SendAsync("LIST");
        var (_, raw) = await p2.ReceiveAsync();
        Assert.InRange(raw.Length, 64 * 1024 + 1, 1024 * 1024);
    }
}
