using ActorImages.Messages;

namespace ActorImages.Node.Tracker;

/// <summary>Commands to the tracker singleton and its answers (docs/protocols.md, P3). They cross nodes: every
/// node's UDP gateway asks the singleton through its proxy.</summary>
public static class TrackerProtocol
{
    /// <summary>A command to the tracker; the identity is (<see cref="Ip"/>, <see cref="Port"/>).</summary>
    public interface ICommand : IActorImagesMessage
    {
        /// <summary>Source IP of the datagram.</summary>
        string Ip { get; }

        /// <summary>The P4 port given in the request.</summary>
        int Port { get; }
    }

    /// <summary>REG: registers the identity, replacing an earlier registration of it (whatever its password).</summary>
    /// <param name="Ip">Source IP of the datagram.</param>
    /// <param name="Port">The P4 port given in the request.</param>
    /// <param name="Password">The password in clear; the tracker keeps only a salted hash.</param>
    /// <param name="Images">The holdings, in request order.</param>
    public sealed record Register(string Ip, int Port, string Password, IReadOnlyList<PeerImage> Images) : ICommand;

    /// <summary>UPD: replaces the identity's holdings, if the password matches.</summary>
    /// <param name="Ip">Source IP of the datagram.</param>
    /// <param name="Port">The P4 port given in the request.</param>
    /// <param name="Password">The password in clear.</param>
    /// <param name="Images">The new holdings.</param>
    public sealed record Update(string Ip, int Port, string Password, IReadOnlyList<PeerImage> Images) : ICommand;

    /// <summary>END: removes the identity and its holdings, if the password matches.</summary>
    /// <param name="Ip">Source IP of the datagram.</param>
    /// <param name="Port">The P4 port given in the request.</param>
    /// <param name="Password">The password in clear.</param>
    public sealed record End(string Ip, int Port, string Password) : ICommand;

    /// <summary>What the tracker answered.</summary>
    public enum Outcome
    {
        /// <summary><c>OK &lt;n&gt;_REGISTERED_IMAGES</c>.</summary>
        Registered,
        /// <summary><c>OK &lt;n&gt;_REGISTERED_FILES</c>.</summary>
        Updated,
        /// <summary><c>OK CLIENT_FINISHED</c>.</summary>
        Finished,
        /// <summary><c>ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD</c>: unknown identity or wrong password.</summary>
        WrongPassword,
        /// <summary><c>ERR TOO_MANY_IDENTITIES</c>: the source IP has max-identities-per-ip registrations.</summary>
        TooManyIdentities,
        /// <summary><c>ERR TRACKER_UNAVAILABLE</c>: the change was not committed; nothing is promised.</summary>
        Unavailable,
    }

    /// <summary>The answer to a command. An OK answer is sent only after the change committed to PostgreSQL.</summary>
    /// <param name="Outcome">The outcome.</param>
    /// <param name="Count">Images registered or held (REG, UPD).</param>
    /// <param name="Change">The committed change, applied by the asking node's LST view before it answers the peer
    /// (read-your-writes); null when nothing changed.</param>
    public sealed record Reply(Outcome Outcome, int Count, TrackerChange? Change) : IActorImagesMessage;

    /// <summary>One committed change of one identity, published on the <c>tracker</c> topic.</summary>
    /// <param name="Version">The tracker version after the change: a view applies a change only when it is newer than
    /// what it has for that identity, and reloads when it sees it missed one.</param>
    /// <param name="Identity">The identity <c>ip:port</c>.</param>
    /// <param name="Registration">The identity's registration after the change, or null when it was removed.</param>
    public sealed record TrackerChange(long Version, string Identity, PeerRegistration? Registration) : IActorImagesMessage;

    /// <summary>The cluster-wide topic of <see cref="TrackerChange"/>.</summary>
    public const string Topic = "tracker";
}
