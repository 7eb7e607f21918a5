// backend/vault_jobs.cpp: jobs and their events.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "backend/vault.h"
#include "backend/vault_db.h"

namespace m365vault {
namespace {

constexpr char kJobColumns[] =
    "id, tenant, kind, object_type, status, started, ended, objects_total, objects_done, objects_failed,"
    " items, bytes, snapshot_id, error, host, pid, scope, containers_total";

const std::string& HostName() {
  static const std::string kHost = [] {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof(buf) - 1) != 0) return std::string("localhost");
    return std::string(buf);
  }();
  return kHost;
}

// A running job whose process on this host no longer exists was killed.
bool ProcessGone(const std::string& host, int64_t pid) {
  if (pid <= 0 || host != HostName()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

JobStatus ParseJobStatus(const std::string& s) {
  if (s == "succeeded") return JobStatus::kSucceeded;
  if (s == "partial") return JobStatus::kPartial;
  if (s == "failed") return JobStatus::kFailed;
  return JobStatus::kRunning;
}

JobRecord ReadJob(Stmt& s) {
  JobRecord j;
  j.id = s.Int(0);
  j.tenant = s.Text(1);
  j.kind = s.Text(2);
  j.object_type = s.Text(3);
  j.status = ParseJobStatus(s.Text(4));
  j.started_ns = s.Int(5);
  j.ended_ns = s.Int(6);
  j.counts.objects_total = static_cast<uint64_t>(s.Int(7));
  j.counts.objects_done = static_cast<uint64_t>(s.Int(8));
  j.counts.objects_failed = static_cast<uint64_t>(s.Int(9));
  j.counts.items = static_cast<uint64_t>(s.Int(10));
  j.counts.bytes = static_cast<uint64_t>(s.Int(11));
  j.snapshot_id = s.Text(12);
  j.error = s.Text(13);
  j.host = s.Text(14);
  j.pid = s.Int(15);
  j.scope = s.Text(16);
  j.counts.containers_total = static_cast<uint64_t>(s.Int(17));
  if (j.status == JobStatus::kRunning && ProcessGone(j.host, j.pid)) j.status = JobStatus::kInterrupted;
  return j;
}

void BindCounts(Stmt& s, int first, const JobCounts& c) {
  s.Bind(first, static_cast<int64_t>(c.objects_total));
  s.Bind(first + 1, static_cast<int64_t>(c.objects_done));
  s.Bind(first + 2, static_cast<int64_t>(c.objects_failed));
  s.Bind(first + 3, static_cast<int64_t>(c.items));
  s.Bind(first + 4, static_cast<int64_t>(c.bytes));
  s.Bind(first + 5, static_cast<int64_t>(c.containers_total));
}

}  // namespace

Result<int64_t> Vault::StartJob(const std::string& tenant, const std::string& kind, const std::string& object_type,
                                const std::string& scope) {
  if (kind.empty()) return Status::InvalidArgument("a job needs a kind");
  std::lock_guard<std::mutex> l(db_->mu());
  int64_t now = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_,
         "INSERT INTO jobs(tenant, kind, object_type, status, started, host, pid, scope)"
         " VALUES (?, ?, ?, 'running', ?, ?, ?, ?)");
  s.Bind(1, tenant).Bind(2, kind).Bind(3, object_type).Bind(4, now).Bind(5, HostName());
  s.Bind(6, static_cast<int64_t>(::getpid())).Bind(7, scope);
  M365_RETURN_IF_ERROR(s.Run());
  int64_t id = db_->LastInsertRowid();
  nlohmann::json details = {{"job", id}, {"tenant", tenant}, {"kind", kind}, {"object_type", object_type}};
  if (!scope.empty()) details["scope"] = scope;
  M365_RETURN_IF_ERROR(InsertAudit(*db_, now, "job.start", details.dump()));
  M365_RETURN_IF_ERROR(t.Commit());
  return id;
}

Status Vault::UpdateJobCounts(int64_t id, const JobCounts& counts) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "UPDATE jobs SET objects_total = ?, objects_done = ?, objects_failed = ?, items = ?, bytes = ?,"
         " containers_total = ? WHERE id = ? AND status = 'running'");
  BindCounts(s, 1, counts);
  s.Bind(7, id);
  M365_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) return Status::NotFound("no running job " + std::to_string(id));
  return Status::OK();
}

Status Vault::AddJobEvent(const JobEvent& event) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "INSERT INTO job_events(job_id, time, object, code, reason, hint, level) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, event.job_id).Bind(2, event.time_ns ? event.time_ns : NowNs());
  s.Bind(3, event.object).Bind(4, event.code).Bind(5, event.reason).Bind(6, event.hint).Bind(7, event.level);
  Status st = s.Run();
  // The foreign key names the job; a violation means there is no such job.
  if (st.code() == Status::Code::kAlreadyExists) return Status::NotFound("no job " + std::to_string(event.job_id));
  return st;
}

Status Vault::FinishJob(int64_t id, JobStatus status, const JobCounts& counts, const std::string& snapshot_id,
                        const std::string& error) {
  if (status == JobStatus::kRunning || status == JobStatus::kInterrupted) {
    return Status::InvalidArgument("FinishJob needs a final status");
  }
  std::lock_guard<std::mutex> l(db_->mu());
  int64_t now = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  {
    Stmt q(*db_, "SELECT status FROM jobs WHERE id = ?");
    q.Bind(1, id);
    M365_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no job " + std::to_string(id));
    if (q.Text(0) != "running") return Status::InvalidArgument("job " + std::to_string(id) + " has already ended");
  }
  Stmt s(*db_,
         "UPDATE jobs SET status = ?, ended = ?, objects_total = ?, objects_done = ?, objects_failed = ?,"
         " items = ?, bytes = ?, containers_total = ?, snapshot_id = ?, error = ? WHERE id = ?");
  s.Bind(1, JobStatusName(status)).Bind(2, now);
  BindCounts(s, 3, counts);
  s.Bind(9, snapshot_id).Bind(10, error).Bind(11, id);
  M365_RETURN_IF_ERROR(s.Run());
  nlohmann::json details = {{"job", id}, {"status", JobStatusName(status)}, {"snapshot", snapshot_id}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, now, "job.finish", details.dump()));
  return t.Commit();
}

Result<std::vector<JobRecord>> Vault::ListJobs(const JobFilter& filter) {
  std::lock_guard<std::mutex> l(db_->mu());
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs" +
                    (filter.tenant.empty() ? "" : " WHERE tenant = ?2") + " ORDER BY id DESC LIMIT ?1";
  Stmt s(*db_, sql.c_str());
  s.Bind(1, static_cast<int64_t>(filter.limit > 0 ? filter.limit : -1));
  if (!filter.tenant.empty()) s.Bind(2, filter.tenant);
  return s.Rows(ReadJob);
}

Result<JobRecord> Vault::GetJob(int64_t id) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?").c_str());
  s.Bind(1, id);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no job " + std::to_string(id) + " (see 'm365vault jobs')");
  return ReadJob(s);
}

Result<std::vector<JobEvent>> Vault::ListJobEvents(int64_t job_id) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "SELECT job_id, time, object, code, reason, hint, level FROM job_events WHERE job_id = ? ORDER BY id");
  s.Bind(1, job_id);
  return s.Rows([](Stmt& r) {
    return JobEvent{r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)};
  });
}

}  // namespace m365vault
