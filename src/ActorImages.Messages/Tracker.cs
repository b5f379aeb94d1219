namespace ActorImages.Messages;

/// <summary>One image a legacy peer registered with the tracker (docs/protocols.md, P3: an item of REG/UPD).</summary>
/// <param name="Md5">32 lowercase hex characters.</param>
/// <param name="Name">The file name the peer gave; may be empty.</param>
public sealed record PeerImage(string Md5, string Name) : IActorImagesMessage;

/// <summary>
/// A legacy peer's registration as the tracker keeps it (docs/protocols.md, P3). The password never leaves the
/// tracker: only a salted hash is stored, and this record does not carry it.
/// </summary>
/// <param name="Ip">The source IP of the peer's datagrams ("client identity").</param>
/// <param name="Port">The P4 port the peer serves <c>GET</c> on.</param>
/// <param name="Images">The peer's holdings, in the order registered.</param>
/// <param name="RegisteredAt">Time of the REG that created this registration (UTC).</param>
/// <param name="Sequence">Tracker-wide order of registrations: a later REG has a larger sequence, so "the most
/// recently registered first" and "the name registered first" are well defined.</param>
public sealed record PeerRegistration(
    string Ip,
    int Port,
    IReadOnlyList<PeerImage> Images,
    DateTimeOffset RegisteredAt,
    long Sequence) : IActorImagesMessage
{
    /// <summary>The identity key <c>ip:port</c>.</summary>
    public string Identity => $"{Ip}:{Port}";
}
