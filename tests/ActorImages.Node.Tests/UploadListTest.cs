using System.Text;
using ActorImages.Catalog;
using ActorImages.Node.Catalog;
using ActorImages.Protocols;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The P2 <c>LIST</c> reply kept in memory (docs/protocols.md, P2): the newest uploads that fit the budget, in
/// upload order, however many came before and in whatever order the feed delivered them, with the held entries
/// bounded.</summary>
public sealed class UploadListTest
{
    [Fact]
    public async Task TheReplyListsTheNewestThatFitInUploadOrderAndTheListStaysBounded()
    {
        var ct = CancellationToken.None;
        await using var db = await CatalogDatabase.OpenAsync(await PostgresServer.CreateDatabaseUrlAsync(), ct);
        const int budget = 3000; // a capacity of 101 entries; about 70 rows fit
        var list = new UploadList(budget);
        await list.LoadAsync(db.Catalog, ct);
        for (long id = 1; id <= 5000; id++)
        {
            list.Add([new UploadName(id, $"f{id}.jpg", "u")]);
            // An older entry arriving late (another node's, through the catch-up) takes its place by id.
            if (id % 1000 == 0) list.Add([new UploadName(id - 500, "late.jpg", "u")]);
            Assert.InRange(list.Count, 1, 101 + 64);
        }

        var reply = await list.ReplyAsync(ct);
        var expected = P2Reply.ListWithin(
            Enumerable.Range(1, 5000).Select(id => new P2ListedFile($"f{id}.jpg", "u")).ToList(), out var listed, budget);
        Assert.Equal(expected, Encoding.UTF8.GetString(reply));
        Assert.InRange(reply.Length, budget - 100, budget);
        Assert.InRange(listed, 50, 101);
    }

    /// <summary>A node started while the database was away has no first load: its LIST is refused after the load wait
    /// (the gateway answers it as unavailable) instead of never being answered.</summary>
    [Fact]
    public async Task WithoutItsFirstLoadALISTIsRefusedAfterTheLoadWait()
    {
        var list = new UploadList(3000, TimeSpan.FromMilliseconds(200));
        list.Add([new UploadName(1, "f1.jpg", "u")]);
        await Assert.ThrowsAsync<TimeoutException>(() => list.ReplyAsync(CancellationToken.None));
    }
}
