package io.actorimages.node;

import io.actorimages.messages.ImageStored;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The actors of one node that gateways talk to, handed to each gateway at start.
 *
 * @param system      the node's ActorSystem
 * @param settings    the node's settings
 * @param storage     this node's disk
 * @param registry    this node's entry to the catalog and to the local replicas of catalog and tracker
 * @param tracker     the proxy of the tracker singleton
 * @param transfer    this node's Transfer
 * @param imageStored the cluster-wide {@code image-stored} topic
 * @param repair      this node's self-repair (also moves replicas away when the node leaves)
 */
public record Node(
    ActorSystem<?> system,
    NodeSettings settings,
    ActorRef<Storage.Command> storage,
    ActorRef<Registry.Command> registry,
    ActorRef<Tracker.Command> tracker,
    ActorRef<Transfer.Command> transfer,
    ActorRef<Topic.Command<ImageStored>> imageStored,
    ActorRef<Repair.Command> repair) {}
