package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.Replica;
import io.actorimages.storage.BlobStore;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Self-repair (issue 4 point 2): brings every image back to {@code replication-factor} live copies. A pass runs
 * when a member is removed (downed or left) and every {@code repair-interval}, over the catalog: for each image
 * with fewer copies on Up members than wanted, the surviving holder that comes first in the image's rendezvous
 * order — exactly one node, without coordination — copies it to the missing chosen nodes through
 * {@link Transfer} and records the new replica set through {@link Registry}. Images are repaired one at a time
 * so a repair never floods the disks or the network; each pass logs how many copies it made and how long it
 * took.
 */
public final class Repair {

  /** Messages of Repair. */
  public sealed interface Command {}

  /** Starts a pass now (tests, and the member-removed trigger). */
  public enum RunPass implements Command { INSTANCE }

  /**
   * This node is leaving: copy every image it holds to the nodes that will hold it without this one, and
   * answer once done (CoordinatedShutdown waits for it before the node leaves the cluster).
   */
  public record Evacuate(ActorRef<Evacuated> replyTo) implements Command {}

  /** Answer to {@link Evacuate}: how many copies were made, how many failed. */
  public record Evacuated(int copies, int failures) {}

  /**
   * Announces that every node of the cluster is about to stop (bin/cluster down): for the next
   * {@value #STOP_ANNOUNCEMENT_SECONDS} s, nodes that leave do not move their replicas, since the others are going
   * too. Answered once the announcement reached every reachable node, or after 3 s.
   */
  public record AnnounceStop(ActorRef<Done> replyTo) implements Command {}

  /** Answer to {@link AnnounceStop}. */
  public enum Done { INSTANCE }

  /** How long a stop announcement holds. */
  public static final int STOP_ANNOUNCEMENT_SECONDS = 120;

  private static final Key<LWWRegister<Long>> STOPPING = LWWRegisterKey.create("cluster-stopping");

  private record StopAnnounced(long at) implements Command {}

  private record StopWritten(ActorRef<Done> replyTo) implements Command {}

  private record StopChecked(Evacuate evacuate, long announcedAt) implements Command {}

  /** Before a pass: the stop announcement as this node's replica has it. */
  private record PassChecked(long announcedAt) implements Command {}

  private record EvacuationSnapshot(List<CatalogEntry> entries, ActorRef<Evacuated> replyTo) implements Command {}

  private record MemberRemoved(ClusterEvent.MemberRemoved event) implements Command {}

  private record Snapshot(List<CatalogEntry> entries) implements Command {}

  private record Copied(CatalogEntry entry, Transfer.ReplicaResult result) implements Command {}

  private enum Recorded implements Command { INSTANCE }

  private enum Tick implements Command { INSTANCE }

  /**
   * @param settings this node's settings
   * @param store    this node's blob store (the source of the copies it makes)
   * @param registry this node's Registry
   * @param transfer this node's Transfer
   */
  public static Behavior<Command> create(NodeSettings settings, BlobStore store,
                                         ActorRef<Registry.Command> registry, ActorRef<Transfer.Command> transfer) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Command, LWWRegister<Long>> replicator) -> {
      ctx.setLoggerName(Repair.class);
      replicator.subscribe(STOPPING, rsp -> rsp instanceof Replicator.Changed<LWWRegister<Long>> c
          ? new StopAnnounced(c.get(STOPPING).getValue()) : new StopAnnounced(0));
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberRemoved.class, MemberRemoved::new), ClusterEvent.MemberRemoved.class));
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.repairInterval());
      return new Repair(ctx, replicator, settings, store, registry, transfer).idle();
    })));
  }

  private final ActorContext<Command> ctx;
  private final NodeSettings settings;
  private final BlobStore store;
  private final ActorRef<Registry.Command> registry;
  private final ActorRef<Transfer.Command> transfer;
  private final String self;
  private final ReplicatorMessageAdapter<Command, LWWRegister<Long>> replicator;
  private boolean passRequested;
  private Evacuate pendingEvacuation;
  private long stopAnnouncedAt;

  private Repair(ActorContext<Command> ctx, ReplicatorMessageAdapter<Command, LWWRegister<Long>> replicator,
                 NodeSettings settings, BlobStore store, ActorRef<Registry.Command> registry,
                 ActorRef<Transfer.Command> transfer) {
    this.ctx = ctx;
    this.replicator = replicator;
    this.settings = settings;
    this.store = store;
    this.registry = registry;
    this.transfer = transfer;
    this.self = ctx.getSystem().address().toString();
  }

  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(MemberRemoved.class, m -> {
          ctx.getLog().info("Member {} removed; checking replicas", m.event().member().address());
          return startPass();
        })
        .onMessage(RunPass.class, m -> startPass())
        .onMessage(Tick.class, m -> startPass())
        .onMessage(Snapshot.class, this::onSnapshot)
        .onMessage(Evacuate.class, m -> {
          // Read the announcement from the replica itself: it may have arrived a moment ago, before the
          // subscription told this actor.
          readStopAnnouncement(at -> new StopChecked(m, at));
          return Behaviors.same();
        })
        .onMessage(PassChecked.class, m -> {
          if (wholeClusterStopping(m.announcedAt())) {
            // The removed member stops with all the others: copying its replicas to nodes that stop a moment
            // later is wasted work, and would change replica sets that a restart is meant to bring back as
            // they were (RestartTest).
            ctx.getLog().info("The whole cluster is stopping: no repair pass");
            return Behaviors.same();
          }
          ctx.ask(Registry.Entries.class, registry, settings.askTimeout(), Registry.ListUploads::new,
              (entries, err) -> new Snapshot(err == null ? entries.entries() : List.of()));
          return Behaviors.same();
        })
        .onMessage(StopChecked.class, m -> {
          if (wholeClusterStopping(m.announcedAt())) {
            ctx.getLog().info("Leaving with the whole cluster: replicas stay where they are");
            m.evacuate().replyTo().tell(new Evacuated(0, 0));
            return Behaviors.same();
          }
          ctx.ask(Registry.Entries.class, registry, settings.askTimeout(), Registry.ListUploads::new,
              (entries, err) -> new EvacuationSnapshot(err == null ? entries.entries() : List.of(),
                  m.evacuate().replyTo()));
          return Behaviors.same();
        })
        .onMessage(EvacuationSnapshot.class, this::onEvacuationSnapshot)
        .onMessage(AnnounceStop.class, this::onAnnounceStop)
        .onMessage(StopWritten.class, m -> {
          m.replyTo().tell(Done.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(StopAnnounced.class, this::onStopAnnounced)
        .onMessage(Copied.class, m -> Behaviors.same())
        .onMessage(Recorded.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onAnnounceStop(AnnounceStop m) {
    long now = System.currentTimeMillis();
    stopAnnouncedAt = now;
    replicator.askUpdate(
        r -> new Replicator.Update<>(STOPPING, LWWRegister.create(
            DistributedData.get(ctx.getSystem()).selfUniqueAddress(), now),
            new Replicator.WriteAll(java.time.Duration.ofSeconds(3)), r,
            reg -> reg.withValue(DistributedData.get(ctx.getSystem()).selfUniqueAddress(), now)),
        rsp -> new StopWritten(m.replyTo()));
    return Behaviors.same();
  }

  private Behavior<Command> onStopAnnounced(StopAnnounced m) {
    stopAnnouncedAt = Math.max(stopAnnouncedAt, m.at());
    return Behaviors.same();
  }

  /** Starts a pass unless the whole cluster is stopping (see {@link PassChecked}). */
  private Behavior<Command> startPass() {
    readStopAnnouncement(PassChecked::new);
    return Behaviors.same();
  }

  /**
   * Reads the stop announcement from this node's replica itself, not only from the subscription: it may have
   * arrived a moment ago, before the subscription told this actor. {@code then} gets its time (epoch ms, 0 when
   * none).
   */
  private void readStopAnnouncement(java.util.function.LongFunction<Command> then) {
    replicator.askGet(r -> new Replicator.Get<>(STOPPING, Replicator.readLocal(), r),
        rsp -> then.apply(rsp instanceof Replicator.GetSuccess<LWWRegister<Long>> ok
            ? ok.get(STOPPING).getValue() : 0L));
  }

  /** Whether a stop of the whole cluster was announced less than {@link #STOP_ANNOUNCEMENT_SECONDS} ago. */
  private boolean wholeClusterStopping(long announcedAt) {
    stopAnnouncedAt = Math.max(stopAnnouncedAt, announcedAt);
    return System.currentTimeMillis() - stopAnnouncedAt < STOP_ANNOUNCEMENT_SECONDS * 1000L;
  }

  private Behavior<Command> onSnapshot(Snapshot m) {
    List<Placement.NodeRef> up = ClusterView.upMembers(ctx.getSystem());
    Set<String> upAddresses = up.stream().map(Placement.NodeRef::address).collect(Collectors.toSet());
    Deque<CatalogEntry> mine = new ArrayDeque<>();
    for (CatalogEntry e : m.entries()) {
      List<Placement.NodeRef> live = e.replicas().stream().filter(r -> upAddresses.contains(r.node()))
          .map(r -> new Placement.NodeRef(r.node(), r.host())).toList();
      if (live.size() >= Math.min(settings.replicationFactor(), up.size())) continue;
      if (live.isEmpty()) {
        ctx.getLog().error("Image {} ({}) has no live replica: nothing to copy from", e.md5(), e.filename());
      } else if (Placement.rank(e.md5(), live).get(0).address().equals(self)) {
        mine.add(e);
      }
    }
    if (mine.isEmpty()) return Behaviors.same();
    ctx.getLog().info("Repair: {} images below {} replicas; copying", mine.size(), settings.replicationFactor());
    return new Pass(mine, up, System.nanoTime(), null).next();
  }

  private Behavior<Command> onEvacuationSnapshot(EvacuationSnapshot m) {
    List<Placement.NodeRef> others = ClusterView.upMembers(ctx.getSystem()).stream()
        .filter(n -> !n.address().equals(self)).toList();
    Set<String> otherAddresses = others.stream().map(Placement.NodeRef::address).collect(Collectors.toSet());
    Deque<CatalogEntry> mine = new ArrayDeque<>();
    for (CatalogEntry e : m.entries()) {
      boolean held = e.replicas().stream().anyMatch(r -> r.node().equals(self));
      long elsewhere = e.replicas().stream().filter(r -> otherAddresses.contains(r.node())).count();
      if (held && elsewhere < Math.min(settings.replicationFactor(), others.size())) mine.add(e);
    }
    ctx.getLog().info("Leaving: moving {} images to the remaining {} nodes", mine.size(), others.size());
    if (mine.isEmpty() || others.isEmpty()) {
      m.replyTo().tell(new Evacuated(0, 0));
      return Behaviors.same();
    }
    return new Pass(mine, others, System.nanoTime(), m.replyTo()).next();
  }

  /** One repair pass over the images this node is responsible for. */
  private final class Pass {
    private final Deque<CatalogEntry> todo;
    private final List<Placement.NodeRef> up;
    private final long startedNanos;
    private int copies;
    private int failures;
    private CatalogEntry current;
    private List<Replica> gained = new ArrayList<>();
    private int outstanding;
    private final ActorRef<Evacuated> evacuationReplyTo;

    /**
     * @param up                the nodes that hold copies after this pass (this node excluded when leaving)
     * @param evacuationReplyTo the leave that waits for this pass, or null for a repair pass
     */
    Pass(Deque<CatalogEntry> todo, List<Placement.NodeRef> up, long startedNanos, ActorRef<Evacuated> evacuationReplyTo) {
      this.todo = todo;
      this.up = up;
      this.startedNanos = startedNanos;
      this.evacuationReplyTo = evacuationReplyTo;
    }

    Behavior<Command> next() {
      String interruption = interruption();
      current = interruption == null ? todo.poll() : null;
      if (current == null) {
        if (interruption != null) {
          ctx.getLog().info("Repair pass stopped with {} images left: {}", todo.size(), interruption);
        }
        ctx.getLog().info("Repair done: {} replicas re-created, {} failed, in {} ms", copies, failures,
            Duration.ofNanos(System.nanoTime() - startedNanos).toMillis());
        if (evacuationReplyTo != null) evacuationReplyTo.tell(new Evacuated(copies, failures));
        if (pendingEvacuation != null) {
          ctx.getSelf().tell(pendingEvacuation);
          pendingEvacuation = null;
        }
        if (passRequested) {
          passRequested = false;
          startPass();
        }
        return idle();
      }
      // Membership is read again per image: a pass over thousands of images outlives the members it started
      // with, and a copy to a node that has gone only waits for its timeout.
      Set<String> upNow = ClusterView.upMembers(ctx.getSystem()).stream().map(Placement.NodeRef::address)
          .collect(Collectors.toSet());
      List<Placement.NodeRef> candidates = up.stream().filter(n -> upNow.contains(n.address())).toList();
      Set<String> candidateAddresses = candidates.stream().map(Placement.NodeRef::address)
          .collect(Collectors.toSet());
      List<Replica> live = current.replicas().stream().filter(r -> candidateAddresses.contains(r.node())).toList();
      Set<String> holding = live.stream().map(Replica::node).collect(Collectors.toSet());
      Replica source = current.replicas().stream().filter(r -> r.node().equals(self)).findFirst().orElseThrow();
      int wanted = Math.min(settings.replicationFactor(), candidates.size()) - live.size();
      List<Placement.NodeRef> targets = Placement.rank(current.md5(), candidates).stream()
          .filter(n -> !holding.contains(n.address())).limit(wanted).toList();
      gained = new ArrayList<>();
      outstanding = targets.size();
      for (Placement.NodeRef target : targets) {
        CatalogEntry entry = current;
        ctx.ask(Transfer.ReplicaResult.class, transfer, settings.replicationTimeout(current.size()),
            r -> new Transfer.Push(store.resolve(source.relativePath()), entry.sha256(), entry.size(),
                target.address(), r),
            (res, err) -> new Copied(entry, err == null ? res : new Transfer.ReplicaFailed("timeout")));
      }
      return outstanding == 0 ? next() : working(live);
    }

    /**
     * Why this pass should stop before its next image, or null to go on: nothing is worth copying when the whole
     * cluster stops; a repair pass gives way to this node's leave (the evacuation is what the leave waits for)
     * and to a new pass after a membership change, which starts from a fresh snapshot.
     */
    private String interruption() {
      if (wholeClusterStopping(0)) return "the whole cluster is stopping";
      if (evacuationReplyTo == null && pendingEvacuation != null) return "this node is leaving";
      if (evacuationReplyTo == null && passRequested) return "a new pass was requested";
      return null;
    }

    private Behavior<Command> working(List<Replica> live) {
      return Behaviors.receive(Command.class)
          .onMessage(Copied.class, m -> {
            NodeMetrics.get(ctx.getSystem()).replicaCreated(evacuationReplyTo != null ? "leave" : "repair",
                m.result() instanceof Transfer.ReplicaStored);
            if (m.result() instanceof Transfer.ReplicaStored stored) {
              gained.add(stored.replica());
              copies++;
            } else {
              failures++;
              ctx.getLog().warn("Repair copy of {} failed: {}", m.entry().md5(),
                  ((Transfer.ReplicaFailed) m.result()).reason());
            }
            if (--outstanding > 0) return Behaviors.same();
            if (gained.isEmpty()) return next();
            List<Replica> replicas = new ArrayList<>(live);
            replicas.addAll(gained);
            ctx.ask(Registry.ReplicasUpdated.class, registry, settings.askTimeout(),
                r -> new Registry.UpdateReplicas(current, replicas, r), (ok, err) -> Recorded.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(Recorded.class, m -> next())
          .onMessage(MemberRemoved.class, m -> requestPass())
          .onMessage(RunPass.class, m -> requestPass())
          .onMessage(Tick.class, m -> Behaviors.same())
          .onMessage(Snapshot.class, m -> Behaviors.same())
          .onMessage(PassChecked.class, m -> requestPass())
          .onMessage(Evacuate.class, m -> {
            pendingEvacuation = m;
            return Behaviors.same();
          })
          .onMessage(AnnounceStop.class, Repair.this::onAnnounceStop)
          .onMessage(StopWritten.class, m -> {
            m.replyTo().tell(Done.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(StopAnnounced.class, Repair.this::onStopAnnounced)
          .build();
    }

    private Behavior<Command> requestPass() {
      passRequested = true;
      return Behaviors.same();
    }
  }
}
