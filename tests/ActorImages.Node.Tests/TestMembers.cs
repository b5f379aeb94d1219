using System.Collections.Immutable;
using ActorImages.Messages;
using ActorImages.Node.Cluster;

namespace ActorImages.Node.Tests;

/// <summary>Nodes on 127.0.0.n as replicas, and membership views of them, for the tests of rules that read both.</summary>
internal static class TestMembers
{
    /// <summary>Node <paramref name="n"/>: <c>akka.tcp://ActorImages@127.0.0.n:25520</c> on host <c>127.0.0.n</c>.</summary>
    public static Replica Node(int n) => new($"akka.tcp://ActorImages@127.0.0.{n}:25520", $"127.0.0.{n}");

    /// <summary>The view of <paramref name="self"/> (Up, and the leader) with <paramref name="up"/> Up and reachable.</summary>
    public static MembershipSnapshot Up(Replica self, params Replica[] up) => new(self.Address,
        up.Select((r, i) => new MemberInfo(r.Address, r.Host, "Up", true, [], i)).ToImmutableArray(), self.Host, true);
}
