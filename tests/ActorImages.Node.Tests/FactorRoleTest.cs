using System.Collections.Immutable;
using ActorImages.Node.Cluster;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>
/// Self-repair trims a surplus of copies only while every Up member runs this node's replication factor, which each
/// node announces as the cluster role <c>replication-factor-N</c> (docs/design.md, RepairActor): a member with a larger
/// factor would copy back what was dropped.
/// </summary>
public sealed class FactorRoleTest
{
    private static MemberInfo Member(int n, string status, bool reachable, params string[] roles) =>
        new(TestMembers.Node(n).Address, TestMembers.Node(n).Host, status, reachable, roles, n);

    private static MembershipSnapshot View(params MemberInfo[] members) =>
        new(members[0].Address, members.ToImmutableArray(), members[0].Host, true);

    [Fact]
    public void EveryUpMemberMustRunTheSameFactor()
    {
        var two = Membership.FactorRole(2);
        Assert.Equal("replication-factor-2", two);
        Assert.True(View(Member(1, "Up", true, "images", two), Member(2, "Up", true, "images", two)).AllRunFactor(2));
        Assert.False(View(Member(1, "Up", true, "images", two), Member(2, "Up", true, "images", two)).AllRunFactor(1));
        Assert.False(View(Member(1, "Up", true, "images", two), Member(2, "Up", true, "images", Membership.FactorRole(3)))
            .AllRunFactor(2));
        // A member of a version that announced no factor.
        Assert.False(View(Member(1, "Up", true, "images", two), Member(2, "Up", true, "images")).AllRunFactor(2));
    }

    [Fact]
    public void MembersNotUpAndReachableDoNotCount()
    {
        var two = Membership.FactorRole(2);
        Assert.True(View(Member(1, "Up", true, two), Member(2, "Joining", true, Membership.FactorRole(3)),
            Member(3, "Up", false, Membership.FactorRole(1))).AllRunFactor(2));
    }
}
