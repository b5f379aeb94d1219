using ActorImages.Node.Cluster;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>Rendezvous placement (docs/design.md, "The path of one image").</summary>
public class PlacementTest
{
    private static MemberInfo Member(int i) => new($"akka.tcp://ActorImages@127.0.0.{i}:25520", $"127.0.0.{i}", "Up", true, [], i);

    [Fact]
    public void EveryNodeComputesTheSamePlacementWhateverTheOrderOfMembers()
    {
        var members = Enumerable.Range(1, 5).Select(Member).ToList();
        var a = Membership.Place("0123456789abcdef0123456789abcdef", members, 2);
        var b = Membership.Place("0123456789abcdef0123456789abcdef", members.AsEnumerable().Reverse(), 2);
        Assert.Equal(a, b);
        Assert.Equal(2, a.Count);
        Assert.NotEqual(a[0], a[1]);
    }

    [Fact]
    public void FewerCopiesWhileFewerMembersAreUp() =>
        Assert.Single(Membership.Place("0123456789abcdef0123456789abcdef", [Member(1)], 2));

    [Fact]
    public void AMemberLeavingMovesOnlyTheImagesItHeld()
    {
        var five = Enumerable.Range(1, 5).Select(Member).ToList();
        var four = five.Take(4).ToList();
        var moved = 0;
        for (var i = 0; i < 1000; i++)
        {
            var md5 = i.ToString("x32");
            var before = Membership.Place(md5, five, 2);
            var after = Membership.Place(md5, four, 2);
            if (!before.SequenceEqual(after))
            {
                Assert.Contains(before, r => r.Host == "127.0.0.5");
                moved++;
            }
        }
        Assert.InRange(moved, 250, 550); // about 2/5 of the images had a copy on the fifth node
    }

    [Fact]
    public void WeightsSpreadImagesEvenly()
    {
        var members = Enumerable.Range(1, 3).Select(Member).ToList();
        var first = Enumerable.Range(0, 3000).Select(i => Membership.Place(i.ToString("x32"), members, 1)[0].Host)
            .GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(first.Values, n => Assert.InRange(n, 850, 1150));
    }
}
