using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using ActorImages.Node.Config;

namespace ActorImages.Actors.Tests;

/// <summary>The node's own Akka configuration (serializer bindings included, <c>serialize-messages</c> on, so every
/// message crosses the JSON serializer as it would between nodes) on a one-node cluster on a free loopback port.</summary>
public abstract class ClusterTestKit : Akka.Hosting.TestKit.TestKit
{
    /// <summary>Creates the kit.</summary>
    protected ClusterTestKit() : base("ActorImages") { }

    /// <inheritdoc />
    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        builder.AddHocon(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.serialize-messages = on")
                .WithFallback(NodeConfig.Reference()), HoconAddMode.Prepend)
            .WithRemoting("127.0.0.1", 0)
            .WithClustering(new ClusterOptions { Roles = ["images"] })
            .AddStartup((system, _) => Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress));
        ConfigureActors(builder);
    }

    /// <summary>Adds the actors under test.</summary>
    /// <param name="builder">The Akka configuration.</param>
    protected abstract void ConfigureActors(AkkaConfigurationBuilder builder);
}
