package io.actorimages.tests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test hosts in Linux network namespaces that this test creates and removes itself (issue 4 point 6, the
 * partition scenario): {@code n} namespaces, each with one veth link to a bridge in the test's own namespace,
 * host {@code i} at {@code 10.77.0.i}, the test at {@code 10.77.0.254}. A partition is made with blackhole
 * routes between hosts, so the test itself still reaches every side. Needs root and iproute2; nothing outside
 * these namespaces is ever addressed.
 */
public final class Namespaces implements AutoCloseable {
  private static final String PREFIX = "aint";
  private final int count;

  private Namespaces(int count) {
    this.count = count;
  }

  /** Whether this machine lets the test create namespaces (root and {@code ip} present). */
  public static boolean available() {
    try {
      run(false, "ip", "netns", "add", PREFIX + "-probe");
      run(false, "ip", "netns", "del", PREFIX + "-probe");
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Creates {@code count} hosts 10.77.0.1 … and the bridge; removes leftovers of an earlier run first. */
  public static Namespaces create(int count) {
    Namespaces ns = new Namespaces(count);
    ns.close();
    run(false, "ip", "link", "add", PREFIX + "br", "type", "bridge");
    run(false, "ip", "addr", "add", "10.77.0.254/24", "dev", PREFIX + "br");
    run(false, "ip", "link", "set", PREFIX + "br", "up");
    for (int i = 1; i <= count; i++) {
      String name = ns.namespace(i);
      run(false, "ip", "netns", "add", name);
      run(false, "ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
      run(false, "ip", "link", "add", PREFIX + "v" + i, "type", "veth", "peer", "name", PREFIX + "p" + i);
      run(false, "ip", "link", "set", PREFIX + "p" + i, "netns", name);
      run(false, "ip", "link", "set", PREFIX + "v" + i, "master", PREFIX + "br");
      run(false, "ip", "link", "set", PREFIX + "v" + i, "up");
      run(false, "ip", "netns", "exec", name, "ip", "addr", "add", ns.host(i) + "/24", "dev", PREFIX + "p" + i);
      run(false, "ip", "netns", "exec", name, "ip", "link", "set", PREFIX + "p" + i, "up");
    }
    return ns;
  }

  /** The address of host {@code i}. */
  public String host(int i) {
    return "10.77.0." + i;
  }

  /** The namespace of host {@code i}. */
  public String namespace(int i) {
    return PREFIX + "-n" + i;
  }

  /** The command prefix that runs a program on host {@code i}. */
  public List<String> launcher(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  /** Cuts host {@code lonely} off from every other host (both directions); the test still reaches it. */
  public void isolate(int lonely) {
    routes("add", lonely);
  }

  /** Undoes {@link #isolate}. */
  public void heal(int lonely) {
    routes("del", lonely);
  }

  private void routes(String op, int lonely) {
    for (int i = 1; i <= count; i++) {
      if (i == lonely) continue;
      run(false, "ip", "netns", "exec", namespace(lonely), "ip", "route", op, "blackhole", host(i) + "/32");
      run(false, "ip", "netns", "exec", namespace(i), "ip", "route", op, "blackhole", host(lonely) + "/32");
    }
  }

  /** Removes every namespace, link and bridge this class makes; quiet when they are gone already. */
  @Override
  public void close() {
    for (int i = 1; i <= Math.max(count, 3); i++) run(true, "ip", "netns", "del", namespace(i));
    for (int i = 1; i <= Math.max(count, 3); i++) run(true, "ip", "link", "del", PREFIX + "v" + i);
    run(true, "ip", "link", "del", PREFIX + "br");
  }

  private static void run(boolean quiet, String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        if (!quiet) throw new IllegalStateException(String.join(" ", command) + " failed: " + out.strip());
      }
    } catch (IOException e) {
      if (!quiet) throw new IllegalStateException(String.join(" ", command) + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** For {@link NodeProcesses#start(List, List)}: every host's address. */
  public List<String> hosts() {
    List<String> hosts = new ArrayList<>();
    for (int i = 1; i <= count; i++) hosts.add(host(i));
    return hosts;
  }

  /** For {@link NodeProcesses#start(List, List)}: every host's launcher. */
  public List<List<String>> launchers() {
    List<List<String>> launchers = new ArrayList<>();
    for (int i = 1; i <= count; i++) launchers.add(launcher(i));
    return launchers;
  }
}
