#!/usr/bin/env python3
"""bench/store_gen.py: an M365-like file tree for the store benchmark (issue 2).

  store_gen.py generate DIR [--size-mb 2048] [--seed 1]
  store_gen.py churn DIR [--seed 2] [--modify 2.0] [--add 1.0] [--delete 0.5]

generate writes, deterministically from the seed (same seed, same bytes and
mtimes), a tenant tree:

  users/<user>/Mail/<folder>/<n>.eml     mail of realistic text, 2-80 KB bodies,
                                         headers, quoted replies (threads), and
                                         base64 attachments drawn from a shared
                                         pool (the same file forwarded in several
                                         mails)
  users/<user>/OneDrive/<folder>/...     office documents (.docx/.xlsx/.pptx:
                                         real zip files with XML parts and
                                         stored media), PDFs (FlateDecode and
                                         plain content streams, DCT images),
                                         JPEG-like images (incompressible), some
                                         copies of the same document in several
                                         users' folders
  sites/<site>/Shared Documents/...      same kinds of documents
  archive/...                            a few 100-300 MB files: a PST-like mix
                                         of text and random blocks, a video
                                         (incompressible), a CSV/log export
                                         (compressible)

Byte budget: mail ~30%, big files ~30%, office ~15%, images ~15%, PDF ~10%.

churn applies one day of change: --modify % of the files are modified (small
files: a few KB overwritten or inserted in the middle; large files and
logs: appended), --add % new files (mail and documents), --delete % removed.
A modified file is written to a temporary name and renamed over the old one,
so a hard-linked copy of the tree taken before (cp -al) keeps the old version.
Python 3 standard library only.
"""

import argparse
import base64
import os
import random
import sys
import time
import zipfile
import zlib

BASE_TIME = 1_700_000_000  # mtimes of generated files: before this, deterministic

WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one had by "
    "word but not what all were we when your can said there use an each which she do how their if will up "
    "other about out many then them these so some her would make like him into time has look two more write "
    "go see number no way could people my than first water been call who oil its now find long down day did "
    "get come made may part meeting project budget forecast quarterly review customer contract invoice "
    "deadline proposal schedule agenda approval report team update please thanks regards attached document "
    "draft final version feedback action items follow next week monday tuesday wednesday thursday friday "
    "sales marketing finance legal compliance security migration tenant mailbox sharepoint onedrive teams "
    "license renewal support ticket escalation release deployment roadmap milestone risk issue status "
    "decision stakeholder alignment workshop training onboarding policy procedure audit backup restore"
).split()

FIRST = "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter xena".split()
LAST = "smith jones brown taylor wilson davies evans thomas johnson roberts walker wright robinson thompson white hughes edwards green".split()
FOLDERS = ["Inbox", "Sent Items", "Archive", "Projects", "Deleted Items"]
DOC_FOLDERS = ["Documents", "Documents/Projects", "Documents/Finance", "Desktop", "Shared", "Pictures"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        r = self.r
        # A pool of sentences: text is built from them (fast, realistic-ish
        # compressibility: zstd gets ~3x on it, like mail text).
        self.sentences = []
        for _ in range(20000):
            n = r.randint(5, 22)
            s = " ".join(r.choice(WORDS) for _ in range(n))
            s = s[0].upper() + s[1:] + r.choice([".", ".", ".", "?", "!"])
            self.sentences.append(s)
        self.people = [(f, l) for f in FIRST for l in LAST]

    def text(self, nbytes, wrap=76):
        out, size = [], 0
        r = self.r
        while size < nbytes:
            para = " ".join(r.choices(self.sentences, k=r.randint(2, 8)))
            lines = []
            while len(para) > wrap:
                cut = para.rfind(" ", 0, wrap)
                if cut <= 0:
                    cut = wrap
                lines.append(para[:cut])
                para = para[cut + 1:]
            lines.append(para)
            block = "\n".join(lines) + "\n\n"
            out.append(block)
            size += len(block)
        return "".join(out)[:nbytes]

    def person(self):
        f, l = self.r.choice(self.people)
        return f"{f.title()} {l.title()}", f"{f}.{l}@contoso.com"


# --- content builders ---

def jpeg_bytes(g, size):
    # SOI, APP0/JFIF, a quantisation table, then entropy-coded-looking noise, EOI.
    head = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
            b"\xff\xdb\x00\x43\x00" + bytes(g.r.randrange(1, 100) for _ in range(64)) +
            b"\xff\xc0\x00\x11\x08\x04\x38\x07\x80\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
            b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")
    body = g.r.randbytes(max(0, size - len(head) - 2))
    return head + body + b"\xff\xd9"


def office_bytes(g, kind, size):
    """A real zip (docx/xlsx/pptx-like): XML parts deflated, media stored."""
    import io
    buf = io.BytesIO()
    dt = (2023, 5, 1, 12, 0, 0)
    # ~1/3 of the bytes deflated XML (compresses ~4x), the rest media.
    xml_raw = max(2000, size // 3 * 4)
    media = max(0, size - size // 3)
    with zipfile.ZipFile(buf, "w") as z:
        def put(name, data, compress=zipfile.ZIP_DEFLATED):
            zi = zipfile.ZipInfo(name, date_time=dt)
            zi.compress_type = compress
            z.writestr(zi, data)
        put("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        put("docProps/core.xml", f"<cp:coreProperties><dc:creator>{g.person()[0]}</dc:creator><dc:title>{g.text(60, 200).strip()}</dc:title></cp:coreProperties>")
        part = {"docx": "word/document.xml", "xlsx": "xl/worksheets/sheet1.xml", "pptx": "ppt/slides/slide1.xml"}[kind]
        paras = []
        n = 0
        while n < xml_raw:
            if kind == "xlsx":
                row = "".join(f'<c r="C{n}" t="n"><v>{g.r.randint(0, 10**6)}</v></c><c t="s"><v>{g.r.choice(WORDS)}</v></c>' for _ in range(6))
                p = f"<row>{row}</row>"
            else:
                p = f'<w:p><w:r><w:rPr><w:b w:val="{g.r.randint(0, 1)}"/></w:rPr><w:t xml:space="preserve">{g.text(g.r.randint(80, 600), 100000).strip()}</w:t></w:r></w:p>'
            paras.append(p)
            n += len(p)
        put(part, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document><w:body>' + "".join(paras) + "</w:body></w:document>")
        if media > 4096:
            put("word/media/image1.jpeg" if kind == "docx" else f"{kind[0:2]}/media/image1.png", jpeg_bytes(g, media), zipfile.ZIP_STORED)
    return buf.getvalue()


def pdf_bytes(g, size):
    out = [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    n = 0
    total = len(out[0])
    obj = 1
    while total < size:
        kind = g.r.random()
        if kind < 0.45:
            stream = zlib.compress(g.text(g.r.randint(4000, 60000)).encode(), 6)
            dict_ = b"/Filter /FlateDecode"
        elif kind < 0.7:
            stream = ("BT /F1 11 Tf 72 720 Td (" + g.text(g.r.randint(2000, 20000)).replace("\n", ") Tj T* (") + ") Tj ET").encode()
            dict_ = b""
        else:
            stream = jpeg_bytes(g, g.r.randint(20000, 400000))
            dict_ = b"/Type /XObject /Subtype /Image /Width 1920 /Height 1080 /Filter /DCTDecode"
        body = b"%d 0 obj\n<< /Length %d %s >>\nstream\n" % (obj, len(stream), dict_) + stream + b"\nendstream\nendobj\n"
        offsets.append(total)
        out.append(body)
        total += len(body)
        obj += 1
        n += 1
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)]
    xref += [b"%010d 00000 n \n" % o for o in offsets]
    out += xref
    out.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, total))
    return b"".join(out)


class Tree:
    def __init__(self, root, g, budget):
        self.root = root
        self.g = g
        self.budget = budget
        self.written = 0
        self.files = 0
        self.users = [f"{f}.{l}" for f, l in g.people[: max(4, min(60, budget // (30 << 20)))]]
        self.sites = ["Finance", "Sales", "Engineering", "Legal", "HR"][: max(2, min(5, budget // (300 << 20)))]
        self.attachments = []  # (name, bytes): forwarded in several mails
        self.docs = []         # office/pdf files that get copied into other folders
        self.threads = []      # previous mail bodies, for quoted replies

    def write(self, rel, data, mtime=None):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        t = mtime if mtime is not None else BASE_TIME - self.g.r.randint(0, 3 * 365 * 86400)
        os.utime(path, (t, t))
        self.written += len(data)
        self.files += 1

    def attachment(self):
        g = self.g
        # Reuse an attachment (forward) 60% of the time once the pool has some.
        if self.attachments and g.r.random() < 0.6:
            return g.r.choice(self.attachments)
        k = g.r.random()
        if k < 0.4:
            name, data = f"report-{g.r.randint(1, 9999)}.pdf", pdf_bytes(g, g.r.randint(30 << 10, 600 << 10))
        elif k < 0.7:
            kind = g.r.choice(["docx", "xlsx", "pptx"])
            name, data = f"{g.r.choice(WORDS)}-{g.r.randint(1, 999)}.{kind}", office_bytes(g, kind, g.r.randint(20 << 10, 600 << 10))
        else:
            name, data = f"IMG_{g.r.randint(1000, 9999)}.jpg", jpeg_bytes(g, g.r.randint(40 << 10, 800 << 10))
        self.attachments.append((name, data))
        return name, data

    def mail(self, user, n):
        g = self.g
        name, addr = g.person()
        to = f"{user}@contoso.com"
        subject = g.text(g.r.randint(20, 70), 1000).strip().replace("\n", " ")
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(BASE_TIME - g.r.randint(0, 10**8)))
        body = g.text(int(g.r.triangular(1500, 60000, 6000)))
        if self.threads and g.r.random() < 0.35:
            prev = g.r.choice(self.threads)
            subject = "RE: " + prev[0]
            body += "\n-----Original Message-----\n" + "".join("> " + l + "\n" for l in prev[1].splitlines())
        if len(self.threads) < 500:
            self.threads.append((subject, body[:20000]))
        boundary = "----=_Part_%d" % g.r.randint(10**8, 10**9)
        head = (f"Return-Path: <{addr}>\nReceived: from mail-{g.r.randint(1, 99)}.outlook.com ([10.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}])\n"
                f"From: {name} <{addr}>\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
                f"Message-ID: <{g.r.getrandbits(64):016x}@contoso.com>\nMIME-Version: 1.0\n"
                f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n')
        parts = [head, f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n", body]
        if g.r.random() < 0.10:
            for _ in range(g.r.choice([1, 1, 1, 2])):
                aname, adata = self.attachment()
                b64 = base64.encodebytes(adata).decode()
                parts.append(f"\n--{boundary}\nContent-Type: application/octet-stream; name=\"{aname}\"\n"
                             f"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"{aname}\"\n\n{b64}")
        parts.append(f"\n--{boundary}--\n")
        return "".join(parts).encode()

    def document(self):
        """(extension, bytes) of an office file, a PDF or an image."""
        g = self.g
        k = g.r.random()
        if k < 0.375:
            kind = g.r.choice(["docx", "docx", "xlsx", "pptx"])
            return kind, office_bytes(g, kind, int(g.r.triangular(20 << 10, 3 << 20, 200 << 10)))
        if k < 0.625:
            return "pdf", pdf_bytes(g, int(g.r.triangular(50 << 10, 5 << 20, 300 << 10)))
        return "jpg", jpeg_bytes(g, int(g.r.triangular(100 << 10, 4 << 20, 1 << 20)))

    def doc_path(self):
        g = self.g
        if g.r.random() < 0.7:
            base = f"users/{g.r.choice(self.users)}/OneDrive/{g.r.choice(DOC_FOLDERS)}"
        else:
            base = f"sites/{g.r.choice(self.sites)}/Shared Documents/{g.r.choice(['General', 'Archive', 'Templates', 'Q' + str(g.r.randint(1, 4))])}"
        return base

    def big_file(self, i, size):
        g = self.g
        kind = i % 3
        path = os.path.join(self.root, "archive")
        os.makedirs(path, exist_ok=True)
        name = ["mailbox-export-%d.pst", "recording-%d.mp4", "audit-log-%d.csv"][kind] % i
        full = os.path.join(path, name)
        block = 1 << 20
        with open(full, "wb") as f:
            done = 0
            while done < size:
                n = min(block, size - done)
                if kind == 1 or (kind == 0 and g.r.random() < 0.5):
                    f.write(g.r.randbytes(n))
                elif kind == 0:
                    f.write(g.text(n).encode()[:n].ljust(n, b"\0"))
                else:
                    rows = []
                    m = 0
                    while m < n:
                        row = f"{BASE_TIME + g.r.randint(0, 10**7)},{g.r.choice(self.users)}@contoso.com,{g.r.choice(WORDS)},{g.r.choice(['Success', 'Success', 'Failed'])},{g.r.randint(0, 10**6)},{g.r.choice(g.sentences)}\n"
                        rows.append(row)
                        m += len(row)
                    f.write("".join(rows).encode()[:n])
                done += n
        t = BASE_TIME - g.r.randint(0, 10**7)
        os.utime(full, (t, t))
        self.written += size
        self.files += 1

    def generate(self):
        g = self.g
        B = self.budget
        # Big files: ~30%, each 100-300 MB (scaled down for tiny trees).
        big_budget = B * 30 // 100
        i = 0
        while big_budget > 0:
            lo, hi = (100 << 20, 300 << 20) if B >= (600 << 20) else (max(1 << 20, B // 20), max(2 << 20, B // 8))
            size = min(g.r.randint(lo, hi), max(big_budget, lo))
            self.big_file(i, size)
            big_budget -= size
            i += 1
        # Mail ~30%, documents ~40% (office 15, images 15, pdf 10), interleaved.
        counters = {}
        mail_bytes = doc_bytes = 0
        while self.written < B:
            before = self.written
            if mail_bytes * 40 <= doc_bytes * 30:
                u = g.r.choice(self.users)
                folder = g.r.choice(FOLDERS)
                key = (u, folder)
                counters[key] = counters.get(key, 0) + 1
                self.write(f"users/{u}/Mail/{folder}/{counters[key]:06d}.eml", self.mail(u, counters[key]))
                mail_bytes += self.written - before
            else:
                if self.docs and g.r.random() < 0.05:
                    # The same document saved in another folder (dedups).
                    name, data = g.r.choice(self.docs)
                    self.write(f"{self.doc_path()}/{name}", data)
                    doc_bytes += self.written - before
                    continue
                ext, data = self.document()
                name = f"{g.r.choice(WORDS)}-{g.r.choice(WORDS)}-{g.r.randint(1, 99999)}.{ext}"
                self.write(f"{self.doc_path()}/{name}", data)
                doc_bytes += self.written - before
                if ext != "jpg" and len(self.docs) < 200:
                    self.docs.append((name, data))
        return self


def all_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.join(d, f))
    return out


def replace_file(path, data, mtime):
    tmp = path + ".churn-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def churn(args):
    g = Gen(args.seed)
    r = g.r
    files = all_files(args.dir)
    n = len(files)
    now = int(time.time())
    picks = r.sample(range(n), n)
    n_mod = round(n * args.modify / 100)
    n_del = round(n * args.delete / 100)
    modified = [files[i] for i in picks[:n_mod]]
    deleted = [files[i] for i in picks[n_mod:n_mod + n_del]]
    mod_bytes = 0
    for path in modified:
        with open(path, "rb") as f:
            data = f.read()
        big = len(data) > (8 << 20) or path.endswith((".csv", ".pst", ".log"))
        if big:
            extra = r.randbytes(r.randint(4 << 10, 64 << 10)) if path.endswith(".mp4") else g.text(r.randint(4 << 10, 64 << 10)).encode()
            data = data + extra
            mod_bytes += len(extra)
        else:
            k = r.randint(1 << 10, 8 << 10)
            off = r.randint(0, max(0, len(data) - k))
            new = g.text(k).encode()
            if r.random() < 0.5:
                data = data[:off] + new + data[off + len(new):]  # overwrite in place
            else:
                data = data[:off] + new + data[off:]               # insert
            mod_bytes += k
        replace_file(path, data, now)
    for path in deleted:
        os.remove(path)
    # Additions: new mail and documents next to existing ones.
    tree = Tree(args.dir, g, 0)
    users = sorted(os.listdir(os.path.join(args.dir, "users"))) if os.path.isdir(os.path.join(args.dir, "users")) else ["alice.smith"]
    tree.users = users
    tree.sites = sorted(os.listdir(os.path.join(args.dir, "sites"))) if os.path.isdir(os.path.join(args.dir, "sites")) else ["Finance"]
    n_add = round(n * args.add / 100)
    added_bytes = 0
    for i in range(n_add):
        if r.random() < 0.6:
            u = r.choice(users)
            rel = f"users/{u}/Mail/{r.choice(FOLDERS)}/new-{args.seed}-{i:06d}.eml"
            data = tree.mail(u, i)
        else:
            ext, data = tree.document()
            rel = f"{tree.doc_path()}/new-{args.seed}-{i:06d}.{ext}"
        tree.write(rel, data, mtime=now)
        added_bytes += len(data)
    print(f"churn: {n} files; modified {len(modified)} ({mod_bytes} bytes edited/appended), "
          f"added {n_add} ({added_bytes} bytes), deleted {len(deleted)}")
    big_hit = [os.path.relpath(p, args.dir) for p in modified if os.path.getsize(p) > (64 << 20)]
    if big_hit:
        print("churn: large files modified (re-read by every tool): " + ", ".join(big_hit))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("generate")
    a.add_argument("dir")
    a.add_argument("--size-mb", type=int, default=2048)
    a.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("churn")
    c.add_argument("dir")
    c.add_argument("--seed", type=int, default=2)
    c.add_argument("--modify", type=float, default=2.0)
    c.add_argument("--add", type=float, default=1.0)
    c.add_argument("--delete", type=float, default=0.5)
    args = ap.parse_args()
    if args.cmd == "generate":
        if os.path.exists(args.dir) and os.listdir(args.dir):
            sys.exit(f"store_gen: {args.dir} is not empty")
        t0 = time.time()
        t = Tree(args.dir, Gen(args.seed), args.size_mb << 20).generate()
        print(f"generated {t.files} files, {t.written} bytes in {args.dir} ({time.time() - t0:.1f} s)")
    else:
        churn(args)


if __name__ == "__main__":
    main()
