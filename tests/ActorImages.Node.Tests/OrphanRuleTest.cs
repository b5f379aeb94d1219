using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Repair;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The orphan sweep's rule for an old file (OrphanSweep remarks): a copy the catalog lists only on other nodes
/// goes only while the entry has all its copies on Up members.</summary>
public sealed class OrphanRuleTest
{
    private static readonly Replica A = TestMembers.Node(1);
    private static readonly Replica B = TestMembers.Node(2);
    private static readonly Replica C = TestMembers.Node(3);

    private static MembershipSnapshot Up(params Replica[] up) => TestMembers.Up(A, up);

    private static CatalogEntry Entry(params Replica[] replicas) => new(1, new string('a', 32), new string('0', 64), 10,
        "image/jpeg", 1, 1, "x.jpg", "u", SourceProtocol.P1Tcp, DateTimeOffset.UnixEpoch, "2026-12-06/x.jpg", replicas);

    private static string? Reason(CatalogEntry? entry, MembershipSnapshot view) =>
        OrphanSweep.Reason(entry, view, A.Host, replicationFactor: 2, holdsImages: true);

    [Fact]
    public void ACopyListedElsewhereGoesOnlyWhileTheEntryHasAllItsCopiesOnUpMembers()
    {
        // Listed on B and C, both Up: the image has its two copies; this node's old file goes.
        Assert.NotNull(Reason(Entry(B, C), Up(A, B, C)));
        // Listed on B and C, C down: short of a copy, which this file may become (self-repair takes it as the copy).
        Assert.Null(Reason(Entry(B, C), Up(A, B)));
        // Listed on B only with three members Up: short of a copy.
        Assert.Null(Reason(Entry(B), Up(A, B, C)));
        // Listed on B only, and this node is the only other member: short too (two Up, factor 2).
        Assert.Null(Reason(Entry(B), Up(A, B)));
        // A one-node cluster of B: one copy is all it can have; the file goes.
        Assert.NotNull(OrphanSweep.Reason(Entry(B), new MembershipSnapshot(A.Address,
            [new MemberInfo(B.Address, B.Host, "Up", true, [], 0)], B.Host, false), A.Host, 2, holdsImages: true));
        // Nobody holding it is Up, or this node is listed: kept.
        Assert.Null(Reason(Entry(C), Up(A, B)));
        Assert.Null(Reason(Entry(A, B), Up(A, B)));
        // No entry: goes only once the catalog lists some image on this node.
        Assert.NotNull(Reason(null, Up(A, B)));
        Assert.Null(OrphanSweep.Reason(null, Up(A, B), A.Host, 2, holdsImages: false));
    }
}
