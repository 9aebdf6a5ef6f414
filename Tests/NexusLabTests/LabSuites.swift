import Testing

/// Every lab suite runs inside this one, one suite at a time: they share real hosts,
/// one PostgreSQL server and one NAS, and some of them stop services, unmount the NAS
/// or set the database aside. Within a suite, `.serialized` orders the tests too.
@Suite("Lab", .serialized)
struct LabSuites {}
