using System.Runtime.InteropServices;

namespace ActorImages.Storage;

/// <summary>
/// The file operations a commit needs that .NET lacks. <see cref="LinkNew"/>: <see cref="File.Move(string, string,
/// bool)"/> without overwrite checks for the target and then renames, so two concurrent moves to one name both
/// succeed and the second overwrites the first (seen in BlobStoreTests); link(2) fails atomically instead.
/// <see cref="FsyncDirectory"/>: a <see cref="FileStream"/> cannot open a directory. <see cref="Fsync"/>: a
/// <see cref="FileStream"/> flushes to disk only when opened for writing, which a file being read by a replica push
/// need not be.
/// </summary>
internal static partial class NativeFiles
{
    // O_RDONLY, 0 on every Linux architecture; it opens a directory too. No other open flag is passed: their values
    // differ between architectures (0x10000 is O_DIRECTORY on x86-64 but O_DIRECT on arm64, where opening a
    // directory with it fails with EINVAL, so every commit failed there), and O_DIRECTORY would only add a check.
    private const int ReadOnly = 0;
    private const int ErrorNoEntry = 2;
    private const int ErrorExists = 17;

    /// <summary>
    /// Gives <paramref name="existing"/> the new name <paramref name="target"/>, failing when that name exists: a
    /// hard link on Linux; elsewhere, or where the file system refuses links (EXDEV, EPERM, ...), a copy to a new file
    /// that is fsynced, its creation refusing an existing name just as atomically.
    /// </summary>
    /// <exception cref="IOException">the target exists, the source is missing, or linking or copying failed</exception>
    public static void LinkNew(string existing, string target)
    {
        if (OperatingSystem.IsLinux())
        {
            if (Link(existing, target) == 0)
            {
                return;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ErrorExists)
            {
                throw new IOException($"{target} already exists");
            }
            if (errno == ErrorNoEntry)
            {
                throw new FileNotFoundException($"{existing} or the folder of {target} is missing", existing);
            }
        }
        // Not atomic like a link: a crash mid-copy can leave a partial file under its final name. It is in no
        // catalog entry, so no client is ever pointed at it. A copy that fails (ENOSPC, EIO) removes its partial
        // file, which would otherwise hold the name against every later copy of the image until the orphan sweep.
        using var source = new FileStream(existing, FileMode.Open, FileAccess.Read, FileShare.Read);
        var copy = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            using (copy)
            {
                source.CopyTo(copy, 1 << 20);
                copy.Flush(flushToDisk: true);
            }
        }
        catch
        {
            try
            {
                File.Delete(target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the orphan sweep removes it
            }
            throw;
        }
    }

    /// <summary>fsyncs the regular file <paramref name="file"/> (its bytes and size), whoever wrote it: a descriptor
    /// opened only to read flushes the inode's dirty pages like the writer's own would.</summary>
    /// <exception cref="IOException">open or fsync failed</exception>
    public static void Fsync(string file)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            stream.Flush(flushToDisk: true);
            return;
        }
        FsyncPath(file, ReadOnly, "file");
    }

    /// <summary>fsyncs <paramref name="directory"/>, so a new or renamed name in it survives a power cut; a no-op where
    /// directories cannot be synced (Windows).</summary>
    /// <exception cref="IOException">open or fsync failed</exception>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        FsyncPath(directory, ReadOnly, "directory");
    }

    private static void FsyncPath(string path, int flags, string kind)
    {
        int fd = Open(path, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ErrorNoEntry)
            {
                throw new FileNotFoundException($"cannot fsync {kind} {path}: it is gone", path);
            }
            throw new IOException($"cannot open {kind} {path} to fsync it (errno {errno})", errno);
        }
        try
        {
            if (FileSync(fd) != 0)
            {
                // The errno is the HResult, as in .NET's own IOExceptions on Unix: ENOSPC surfaces here under delayed
                // allocation, and BlobStore.IsDiskFull reads it.
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync of {kind} {path} failed (errno {errno})", errno);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string target);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
