package io.actorimages.tests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Runs the Python reconstructions of the legacy clients in {@code legacy-clients/} as subprocesses, each with a
 * bounded time and destroyed if it outlives it.
 *
 * <p>The interpreter is {@code -Dlegacy.python} when set; otherwise the first of {@code python3} and
 * {@code /usr/bin/python3} that can {@code import websockets}. The second one matters because Debian's
 * {@code python3-websockets} (what {@code .ci/run} installs) is visible only to Debian's own interpreter, while
 * {@code python3} on the PATH may be another one (a pyenv build, say) that cannot see it.
 */
public final class LegacyPython {
  private LegacyPython() {}

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
  private static String interpreter;
  private static String unavailable;

  /** The interpreter to run the clients with, or null when none can import websockets (see {@link #why}). */
  public static synchronized String interpreter() {
    if (interpreter == null && unavailable == null) resolve();
    return interpreter;
  }

  /** Why no interpreter fits, or null when one does. */
  public static synchronized String why() {
    interpreter();
    return unavailable;
  }

  private static void resolve() {
    String chosen = System.getProperty("legacy.python");
    List<String> candidates = chosen != null ? List.of(chosen) : List.of("python3", "/usr/bin/python3");
    List<String> failures = new ArrayList<>();
    for (String python : candidates) {
      try {
        Result r = exec(List.of(python, "-c", "import websockets"), null, Duration.ofSeconds(30));
        if (r.exit() == 0) {
          interpreter = python;
          return;
        }
        String[] lines = r.output().strip().split("\n");
        failures.add("`" + python + " -c \"import websockets\"` exited " + r.exit() + ": " + lines[lines.length - 1]);
      } catch (RuntimeException e) {
        failures.add("`" + python + "` could not run: " + e.getMessage());
      }
    }
    unavailable = String.join("; ", failures)
        + " (install Debian's python3-websockets, as .ci/run does, or point -Dlegacy.python at an interpreter that has it)";
  }

  /** The {@code legacy-clients/} folder, from {@code -Dlegacy.clients.dir} or {@code ../legacy-clients}. */
  public static Path clientsDir() {
    return Path.of(System.getProperty("legacy.clients.dir", "../legacy-clients")).toAbsolutePath().normalize();
  }

  /** What a finished client did: its exit status and everything it printed (stdout and stderr, interleaved). */
  public record Result(int exit, String output) {
    /** Assertion text: the exit status and the whole output. */
    public String describe() {
      return "exit " + exit + ", output:\n" + output;
    }
  }

  /** Runs {@code script} with {@code args} to its end; kills it and fails after {@code timeout}. */
  public static Result run(Duration timeout, String script, String... args) {
    return exec(command(script, args), clientsDir(), timeout);
  }

  /** Starts {@code script} for a client that runs until its stdin closes (the peers' {@code --register}). */
  public static Running start(String script, String... args) {
    return new Running(command(script, args), clientsDir());
  }

  /** Destroys every client process still alive (for {@code @AfterAll}). */
  public static void destroyAll() {
    for (Process p : LIVE) p.destroyForcibly();
    LIVE.clear();
  }

  private static List<String> command(String script, String... args) {
    String python = interpreter();
    if (python == null) throw new IllegalStateException("no Python for the legacy clients: " + why());
    List<String> cmd = new ArrayList<>(List.of(python, "-u", clientsDir().resolve(script).toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static Process spawn(List<String> cmd, Path dir) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (dir != null) pb.directory(dir.toFile());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    pb.environment().put("PYTHONIOENCODING", "utf-8");
    try {
      Process p = pb.start();
      LIVE.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code cmd} with its stdin closed at once (the one-shot modes never read it) to its end. */
  private static Result exec(List<String> cmd, Path dir, Duration timeout) {
    try (Running running = new Running(cmd, dir)) {
      return running.finish(timeout);
    }
  }

  /** Copies the process output line by line into {@code out}, notifying waiters of each new line. */
  private static Thread pump(Process p, StringBuffer out) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (out) {
            out.append(line).append('\n');
            out.notifyAll();
          }
        }
      } catch (IOException e) {
        // the process is gone
      }
    }, "legacy-client-output");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A running client (a peer serving its folder): {@link #finish} closes its stdin, {@link #close} kills it. */
  public static final class Running implements AutoCloseable {
    private final List<String> cmd;
    private final Process process;
    private final StringBuffer out = new StringBuffer();
    private final Thread reader;

    private Running(List<String> cmd, Path dir) {
      this.cmd = cmd;
      process = spawn(cmd, dir);
      reader = pump(process, out);
    }

    /** Waits until a printed line matches {@code condition}; returns it. Fails after {@code timeout}. */
    public String awaitLine(Duration timeout, String what, Predicate<String> condition) {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (out) {
        while (true) {
          for (String line : out.toString().split("\n")) if (condition.test(line)) return line;
          long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
          if (left <= 0 || !process.isAlive() && !reader.isAlive()) {
            throw new AssertionError("no line " + what + " (" + (process.isAlive() ? "running" : "exited "
                + process.exitValue()) + "); output:\n" + out);
          }
          try {
            out.wait(Math.min(left, 200));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      }
    }

    /** Closes stdin (the client then ends its session) and returns how it finished, within {@code timeout}. */
    public Result finish(Duration timeout) {
      try {
        process.getOutputStream().close();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
          reader.join(2000);
          throw new AssertionError(String.join(" ", cmd) + " still running " + timeout.toSeconds()
              + " s after its stdin closed; killed. Output so far:\n" + out);
        }
        reader.join(5000);
        return new Result(process.exitValue(), out.toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        close();
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      LIVE.remove(process);
    }
  }

  /** A fresh folder for one client's files. */
  public static Path folder(Path parent, String name) {
    try {
      return Files.createDirectories(parent.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
