using ActorImages.Messages;

namespace ActorImages.Catalog;

/// <summary>One change of the tracker state, as the tracker singleton commits it (docs/protocols.md, P3).</summary>
public abstract record TrackerWrite
{
    private TrackerWrite()
    {
    }

    /// <summary>P3 <c>REG</c>: replaces any registration of the identity (ip, port) and gives it a new, larger
    /// sequence.</summary>
    /// <param name="Ip">The peer's source IP.</param>
    /// <param name="Port">The peer's P4 port.</param>
    /// <param name="Salt">From <see cref="PasswordHash.Create"/>.</param>
    /// <param name="Hash">From <see cref="PasswordHash.Create"/>.</param>
    /// <param name="Images">The holdings, in the order registered.</param>
    /// <param name="At">Time of the REG (stored in UTC, microsecond precision).</param>
    public sealed record Register(string Ip, int Port, string Salt, string Hash, IReadOnlyList<PeerImage> Images, DateTimeOffset At)
        : TrackerWrite;

    /// <summary>P3 <c>UPD</c>: replaces the identity's holdings; nothing happens for an identity that is not
    /// registered (the singleton checks the password first).</summary>
    /// <param name="Ip">The peer's source IP.</param>
    /// <param name="Port">The peer's P4 port.</param>
    /// <param name="Images">The new holdings, in order.</param>
    public sealed record Update(string Ip, int Port, IReadOnlyList<PeerImage> Images) : TrackerWrite;

    /// <summary>P3 <c>END</c>: removes the identity and its holdings; nothing happens for an unknown identity.</summary>
    /// <param name="Ip">The peer's source IP.</param>
    /// <param name="Port">The peer's P4 port.</param>
    public sealed record Remove(string Ip, int Port) : TrackerWrite;
}

/// <summary>A registration as stored: what every node may see, and the password hash that only the tracker reads.</summary>
/// <param name="Registration">The peer, its holdings, its registration time and sequence.</param>
/// <param name="Salt">The password salt, hex.</param>
/// <param name="Hash">The password hash, hex (<see cref="PasswordHash"/>).</param>
public sealed record StoredPeer(PeerRegistration Registration, string Salt, string Hash);

/// <summary>The whole tracker state.</summary>
/// <param name="Version">The tracker version: 0 for a fresh database, then one more per committed batch.</param>
/// <param name="Peers">Every registration, in sequence order (oldest registration first).</param>
public sealed record TrackerSnapshot(long Version, IReadOnlyList<StoredPeer> Peers);

/// <summary>The outcome of a committed batch of <see cref="TrackerWrite"/>s.</summary>
/// <param name="Version">The tracker version after the batch.</param>
/// <param name="Sequences">Aligned with the batch: the sequence a <see cref="TrackerWrite.Register"/> got, null for
/// the other writes.</param>
public sealed record TrackerCommit(long Version, IReadOnlyList<long?> Sequences);
