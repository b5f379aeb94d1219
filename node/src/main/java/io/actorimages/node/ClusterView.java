package io.actorimages.node;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Read-only snapshots of this node's view of cluster membership, from the Cluster extension's current state
 * (no blocking, no messages).
 */
public final class ClusterView {
  private ClusterView() {}

  /**
   * One member as the HTTP API and {@code bin/cluster status} show it.
   *
   * @param host      the member's advertised host
   * @param address   its full cluster address
   * @param status    Pekko member status ({@code Up}, {@code Leaving}, …)
   * @param reachable whether this node's failure detector currently reaches it
   * @param roles     its cluster roles
   */
  public record MemberInfo(String host, String address, String status, boolean reachable, List<String> roles) {}

  /** Hosts of members that are {@code Up} and reachable from this node: the P4 endpoints LST lists first. */
  public static Set<String> upHosts(ActorSystem<?> system) {
    Set<String> hosts = new HashSet<>();
    for (Placement.NodeRef n : upMembers(system)) hosts.add(n.host());
    return hosts;
  }

  /** The members that are {@code Up} and reachable from this node, as replica candidates. */
  public static List<Placement.NodeRef> upMembers(ActorSystem<?> system) {
    ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
    Set<Member> unreachable = new HashSet<>();
    state.getUnreachable().forEach(unreachable::add);
    List<Placement.NodeRef> up = new ArrayList<>();
    for (Member m : state.getMembers()) {
      if (m.status() == MemberStatus.up() && !unreachable.contains(m)) {
        up.add(new Placement.NodeRef(m.address().toString(), m.address().getHost().orElse("")));
      }
    }
    return up;
  }

  /**
   * Whether this node reaches a majority of the cluster's members (itself included): Up, not unreachable, out
   * of every member that is not yet removed. A node that does not is on the minority side of a partition and
   * must not accept writes (issue 4 point 4); a one-node cluster is its own majority.
   */
  public static boolean reachesMajority(ActorSystem<?> system) {
    ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
    int members = 0;
    for (Member m : state.getMembers()) {
      if (m.status() != MemberStatus.joining() && m.status() != MemberStatus.weaklyUp()) members++;
    }
    return upMembers(system).size() > members / 2;
  }

  /** Every member this node knows, oldest first (the oldest hosts the singleton). */
  public static List<MemberInfo> members(ActorSystem<?> system) {
    ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
    Set<Member> unreachable = new HashSet<>();
    state.getUnreachable().forEach(unreachable::add);
    List<Member> sorted = new ArrayList<>();
    state.getMembers().forEach(sorted::add);
    sorted.sort((a, b) -> a.isOlderThan(b) ? -1 : b.isOlderThan(a) ? 1 : 0);
    List<MemberInfo> out = new ArrayList<>();
    for (Member m : sorted) {
      out.add(new MemberInfo(m.address().getHost().orElse(""), m.address().toString(), m.status().toString(),
          !unreachable.contains(m), new ArrayList<>(m.getRoles())));
    }
    return out;
  }
}
