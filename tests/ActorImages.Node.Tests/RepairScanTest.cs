using ActorImages.Catalog;
using ActorImages.Node;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Repair;
using ActorImages.Node.Transfer;
using ActorImages.Storage;
using ActorImages.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>
/// How much of the catalog a periodic repair pass reads (docs/design.md, "RepairActor"): the first pass reads it
/// all; a pass after one that completed over the same members reads only what was added since, less a margin of
/// 10,000 ids; every eleventh pass reads it all again. Against a real PostgreSQL with 30,000 entries (60 pages of
/// 500), none of them under-replicated.
/// </summary>
public sealed class RepairScanTest : IAsyncLifetime
{
    private const int Entries = 30_000;
    private CatalogDatabase _db = null!;
    private string _dataDir = null!;

    public async Task InitializeAsync()
    {
        _db = await CatalogDatabase.OpenAsync(await PostgresServer.CreateDatabaseUrlAsync());
        await _db.Catalog.FillSyntheticAsync(Entries);
        _dataDir = Directory.CreateTempSubdirectory("actorimages-repair-scan-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task APassAfterACompleteOneReadsOnlyTheNewEntriesAndEveryEleventhReadsAll()
    {
        var settings = NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string> { ["ACTORIMAGES_DATA_DIR"] = _dataDir }));
        using var http = new HttpClient();
        // No member is Up (the membership is empty): every entry has as many live copies as can be, none is copied.
        var blobs = new BlobStore(_dataDir, settings.MaxImageBytes);
        var plain = RemoteTls.Load(Akka.Configuration.ConfigurationFactory.ParseString("actorimages.remote-tls.enabled = off"),
            DateTimeOffset.UtcNow);
        var transfer = new ReplicaTransfer(settings, plain, http);
        var repair = new ReplicaRepair(settings, _db.Catalog, blobs, new Membership("akka.tcp://ActorImages@127.0.0.1:25520"),
            transfer, new ReplicaFetcher(settings, blobs, transfer, NullLogger<ReplicaFetcher>.Instance), new NodeMetrics(),
            NullLogger<ReplicaRepair>.Instance);
        var full = Entries / settings.RepairPageSize + 1;

        var first = await repair.RunPassAsync(CancellationToken.None);
        Assert.Equal(full, first.Pages);
        Assert.Equal(0, first.Copied);

        // 10,000 ids below the newest: 20 pages and the last, short one.
        for (var i = 0; i < 10; i++)
            Assert.Equal(10_000 / settings.RepairPageSize + 1, (await repair.RunPassAsync(CancellationToken.None)).Pages);
        Assert.Equal(full, (await repair.RunPassAsync(CancellationToken.None)).Pages);

        // New entries are read by the next incremental pass.
        await _db.Catalog.FillSyntheticAsync(1_000);
        Assert.Equal(11_000 / settings.RepairPageSize + 1, (await repair.RunPassAsync(CancellationToken.None)).Pages);
    }
}
