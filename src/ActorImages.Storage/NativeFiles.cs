using System.Runtime.InteropServices;

namespace ActorImages.Storage;

/// <summary>
/// fsync of a directory, so a new name in it (a committed image, a new day folder) survives a power cut. .NET has
/// no API for it: a <see cref="FileStream"/> cannot open a directory, so this calls open(2) and fsync(2).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int OpenDirectory = 0x10000; // O_DIRECTORY on Linux x86-64 and arm64

    /// <summary>fsyncs <paramref name="directory"/>; a no-op where directories cannot be synced (Windows).</summary>
    /// <exception cref="IOException">open or fsync failed</exception>
    public static void Fsync(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        int fd = Open(directory, ReadOnly | OpenDirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (FileSync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FileSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
