using System.Net;
using System.Net.Sockets;
using Akka.Discovery;

namespace ActorImages.Node.Cluster;

/// <summary>
/// Akka.Discovery method <c>actorimages-dns</c> (<see cref="ClusterBootstrapping"/>): a service name resolves to its
/// IPv4 A records, each a contact point without a port, which Cluster Bootstrap probes on its
/// <c>contact-point.fallback-port</c> (the management port). In <c>docker compose</c> the service name (<c>node</c>)
/// resolves to every container of the service. Akka.Discovery 1.5.73 ships no DNS method of its own: its
/// reference.conf names <c>Akka.Discovery.Dns.DnsServiceDiscovery</c>, a class the assembly does not hold.
/// </summary>
public sealed class DnsARecordDiscovery : ServiceDiscovery
{
    /// <summary>Resolves <paramref name="lookup"/>'s service name (its port name and protocol are ignored).</summary>
    /// <param name="lookup">The service to look up.</param>
    /// <param name="resolveTimeout">Time the DNS query may take.</param>
    /// <returns>One target per distinct IPv4 address, host = the address as text, no port; none when the name does not
    /// resolve (yet).</returns>
    public override async Task<Resolved> Lookup(Lookup lookup, TimeSpan resolveTimeout)
    {
        using var timeout = new CancellationTokenSource(resolveTimeout);
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(lookup.ServiceName, AddressFamily.InterNetwork, timeout.Token);
        }
        catch (SocketException)
        {
            // No such name yet (the first container of a service may start before the DNS server lists it).
            addresses = [];
        }
        return new Resolved(lookup.ServiceName, addresses.Distinct().Select(a => new ResolvedTarget(a.ToString(), null, a)));
    }
}
