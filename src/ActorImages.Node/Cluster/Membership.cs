using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Messages;
using Akka.Actor;
using Akka.Cluster;

namespace ActorImages.Node.Cluster;

/// <summary>One member as this node sees it, for placement, <c>/api/cluster</c> and LST holders.</summary>
/// <param name="Address">The member's name, its cluster address in akka.tcp form whether or not remoting is TLS
/// (<see cref="RemoteTls.NodeName"/>), e.g. <c>akka.tcp://ActorImages@127.0.0.2:25520</c>.</param>
/// <param name="Host">The member's advertised host (its remoting host name).</param>
/// <param name="Status">Akka member status: Joining, Up, Leaving, Exiting, Down, Removed.</param>
/// <param name="Reachable">Whether this node's failure detector reaches it.</param>
/// <param name="Roles">The member's roles.</param>
/// <param name="UpNumber">Age order among Up members: smaller is older (the singleton runs on the oldest).</param>
public sealed record MemberInfo(string Address, string Host, string Status, bool Reachable, IReadOnlyList<string> Roles, int UpNumber);

/// <summary>An immutable view of the membership, replaced whole on each cluster event.</summary>
/// <param name="Self">This node's address.</param>
/// <param name="Members">Every member known, in address order; members that left stay listed as Removed.</param>
/// <param name="Leader">The leader's host, or null.</param>
/// <param name="SelfUp">Whether this node is an Up member.</param>
public sealed record MembershipSnapshot(string Self, ImmutableArray<MemberInfo> Members, string? Leader, bool SelfUp)
{
    /// <summary>The members that are Up and reachable: the ones that can take replicas.</summary>
    public IReadOnlyList<MemberInfo> UpReachable => Members.Where(m => m.Status == "Up" && m.Reachable).ToList();

    /// <summary>Whether this node sees a reachable majority of the Up and Leaving members, so it may take writes
    /// (a minority side of a partition refuses them up front; docs/design.md "Membership and failure").</summary>
    public bool HasMajority
    {
        get
        {
            var counted = Members.Where(m => m.Status is "Up" or "Leaving" or "Joining" or "WeaklyUp").ToList();
            return SelfUp && counted.Count(m => m.Reachable) * 2 > counted.Count;
        }
    }

    /// <summary>The replicas of <paramref name="entry"/> on Up and reachable members, in replica order.</summary>
    /// <param name="entry">A catalog entry.</param>
    /// <returns>Its live replicas (this node's included).</returns>
    public IReadOnlyList<Replica> HoldersUp(CatalogEntry entry)
    {
        var up = UpReachable.Select(m => m.Address).ToHashSet(StringComparer.Ordinal);
        return entry.Replicas.Where(r => up.Contains(r.Address)).ToList();
    }

    /// <summary>The other nodes holding <paramref name="entry"/>, those Up and reachable first: the order every read
    /// and every restore asks them in.</summary>
    /// <param name="entry">A catalog entry.</param>
    /// <returns>Its replicas on other nodes.</returns>
    public IReadOnlyList<Replica> OtherHoldersUpFirst(CatalogEntry entry)
    {
        var up = UpReachable.Select(m => m.Address).ToHashSet();
        return entry.Replicas.Where(r => r.Address != Self).OrderBy(r => up.Contains(r.Address) ? 0 : 1).ToList();
    }

    /// <summary>
    /// Whether every Up and reachable member runs with <paramref name="replicationFactor"/>, as its
    /// <see cref="Membership.FactorRole"/> says. Self-repair trims a surplus of copies only then: a member with a
    /// larger factor would copy back what a member with a smaller one dropped, over and over while a change of the
    /// factor rolls through the cluster (docs/design.md, "Actors and services on every node", RepairActor).
    /// </summary>
    /// <param name="replicationFactor">This node's <c>replication-factor</c>.</param>
    /// <returns>True when every such member carries the same factor's role.</returns>
    public bool AllRunFactor(int replicationFactor)
    {
        var role = Membership.FactorRole(replicationFactor);
        return UpReachable.All(m => m.Roles.Contains(role));
    }

    /// <summary>The host of the oldest Up member, where the tracker singleton runs.</summary>
    public string? OldestHost => Members.Where(m => m.Status == "Up").OrderBy(m => m.UpNumber).FirstOrDefault()?.Host;

    /// <summary>The empty view before the first cluster event.</summary>
    /// <param name="self">This node's address.</param>
    /// <returns>A view with no members.</returns>
    public static MembershipSnapshot Empty(string self) => new(self, ImmutableArray<MemberInfo>.Empty, null, false);
}

/// <summary>
/// This node's current view of the cluster, readable from any thread without an actor round trip (gateways and
/// placement read it per request). <see cref="MembershipActor"/> is its only writer.
/// </summary>
public sealed class Membership
{
    private volatile MembershipSnapshot _current;

    /// <summary>Creates the holder for the node at <paramref name="selfAddress"/>.</summary>
    /// <param name="selfAddress">This node's cluster address.</param>
    public Membership(string selfAddress) => _current = MembershipSnapshot.Empty(selfAddress);

    /// <summary>The latest view.</summary>
    public MembershipSnapshot Current => _current;

    /// <summary>Raised after each change of view, on the membership actor's thread; handlers must be quick.</summary>
    public event Action<MembershipSnapshot>? Changed;

    internal void Set(MembershipSnapshot snapshot)
    {
        _current = snapshot;
        Changed?.Invoke(snapshot);
    }

    /// <summary>
    /// The nodes that should hold <paramref name="md5"/>, best first: rendezvous (highest-random-weight) hashing of the
    /// md5 over the Up reachable members (docs/design.md, "Registry"). Every node computes the same answer from the
    /// same membership, and a member joining or leaving moves only the images whose top nodes changed.
    /// </summary>
    /// <param name="md5">The image's lowercase hex md5.</param>
    /// <param name="members">Candidate members.</param>
    /// <param name="count">Wanted copies; fewer are returned while fewer members are given.</param>
    /// <returns>At most <paramref name="count"/> replicas in rendezvous order.</returns>
    public static IReadOnlyList<Replica> Place(string md5, IEnumerable<MemberInfo> members, int count) =>
        Rank(md5, members).Take(count).Select(m => new Replica(m.Address, m.Host)).ToList();

    /// <summary>
    /// How many copies an entry should have on <paramref name="members"/> members: the replication factor (README,
    /// "Configuration", <c>replication-factor</c>), or every member when fewer. The one rule self-repair, a leave's
    /// evacuation and the orphan sweep apply (docs/design.md, "Actors and services on every node").
    /// </summary>
    /// <param name="replicationFactor">The configured <c>replication-factor</c> (at least 1).</param>
    /// <param name="members">The members that can hold a copy (Up and reachable; without a leaving node for its
    /// evacuation).</param>
    /// <returns>The copies wanted, 0 when there is no member.</returns>
    public static int CopiesWanted(int replicationFactor, int members) => Math.Min(replicationFactor, members);

    /// <summary>The cluster role every node runs with: the tracker singleton's.</summary>
    public const string ImagesRole = "images";

    /// <summary>The cluster role that tells the other members a node's <c>replication-factor</c>, e.g.
    /// <c>replication-factor-2</c> (<see cref="MembershipSnapshot.AllRunFactor"/>).</summary>
    /// <param name="replicationFactor">The node's replication factor.</param>
    /// <returns>The role's name.</returns>
    public static string FactorRole(int replicationFactor) =>
        "replication-factor-" + replicationFactor.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every member in rendezvous order for <paramref name="md5"/>.</summary>
    /// <param name="md5">The image's lowercase hex md5.</param>
    /// <param name="members">Candidate members.</param>
    /// <returns>The members, best holder first.</returns>
    public static IEnumerable<MemberInfo> Rank(string md5, IEnumerable<MemberInfo> members) =>
        members.OrderByDescending(m => Weight(md5, m.Address)).ThenBy(m => m.Address, StringComparer.Ordinal);

    private static ulong Weight(string md5, string address)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(md5 + "|" + address), digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest);
    }
}

/// <summary>Keeps <see cref="Membership"/> current from the cluster's membership events. <c>Cluster.State</c> is
/// updated by its own subscriber and may lag the event that woke this actor, so the view is read again shortly after
/// each event and every second.</summary>
public sealed class MembershipActor : ReceiveActor, IWithTimers
{
    private sealed record Refresh : INoSerializationVerificationNeeded
    {
        public static readonly Refresh Instance = new();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly Membership _membership;

    /// <summary>Creates the actor.</summary>
    /// <param name="membership">The holder this actor writes.</param>
    public MembershipActor(Membership membership)
    {
        _membership = membership;
        Receive<Refresh>(_ => Publish());
        ReceiveAny(_ =>
        {
            Publish();
            Timers.StartSingleTimer("after-event", Refresh.Instance, TimeSpan.FromMilliseconds(200));
        });
    }

    /// <summary>Props of the actor.</summary>
    /// <param name="membership">The holder to keep current.</param>
    /// <returns>The props.</returns>
    public static Props Props(Membership membership) => Akka.Actor.Props.Create(() => new MembershipActor(membership));

    /// <inheritdoc />
    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, TimeSpan.FromSeconds(1));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));
    }

    /// <inheritdoc />
    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private readonly Dictionary<string, MemberInfo> _removed = new();

    private void Publish()
    {
        var state = _cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var up = state.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).ToList();
        var current = state.Members.Select(m => new MemberInfo(
            RemoteTls.NodeName(m.Address), m.Address.Host ?? "", m.Status.ToString(), !unreachable.Contains(m.Address),
            m.Roles.ToList(), up.IndexOf(m) is var i and >= 0 ? i : int.MaxValue)).ToList();
        foreach (var gone in _membership.Current.Members.Where(m => current.All(c => c.Address != m.Address)))
            _removed[gone.Address] = gone with { Status = "Removed", Reachable = false };
        foreach (var back in current) _removed.Remove(back.Address);
        var all = current.Concat(_removed.Values).OrderBy(m => m.Address, StringComparer.Ordinal).ToImmutableArray();
        var selfUp = _cluster.SelfMember.Status == MemberStatus.Up;
        var previous = _membership.Current;
        if (previous.SelfUp == selfUp && previous.Leader == state.Leader?.Host && previous.Members.SequenceEqual(all, MemberComparer.Instance)) return;
        _membership.Set(new MembershipSnapshot(RemoteTls.NodeName(_cluster.SelfAddress), all, state.Leader?.Host, selfUp));
    }
}

/// <summary>Compares members by value, roles included.</summary>
internal sealed class MemberComparer : IEqualityComparer<MemberInfo>
{
    public static readonly MemberComparer Instance = new();

    public bool Equals(MemberInfo? x, MemberInfo? y) =>
        x is not null && y is not null && x with { Roles = [] } == y with { Roles = [] } && x.Roles.SequenceEqual(y.Roles);

    public int GetHashCode(MemberInfo m) => m.Address.GetHashCode();
}
