/// The one place nexus-dr calls the C library.
public enum POSIX {}
