
       01  KOREAN-REC.
           05  KR-CODE             PIC X(4).
           05  KR-NAME             PIC X(12).
           05  KR-DBCS             PIC G(4).
           05  KR-AMT              PIC S9(7) COMP-3.
