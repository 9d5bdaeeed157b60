      *================================================================*
      * TXNHIST  - TRANSACTION HISTORY: BODY AFTER COMM-HDR             *
      *================================================================*
       01  TXNHIST-REQ.
           05  ACCT-NO                 PIC X(16).
           05  FROM-DATE               PIC 9(8).
           05  TO-DATE                 PIC 9(8).
           05  MAX-ROWS                PIC 9(3).
      *    SPACES: THE FIRST PAGE; ELSE THE NEXT-KEY OF THE PAGE BEFORE.
           05  NEXT-KEY                PIC X(10).
      *
       01  TXNHIST-RESP.
           05  ACCT-NO                 PIC X(16).
      *    SPACES: THE LAST PAGE; ELSE SEND IT BACK FOR THE NEXT ONE.
           05  NEXT-KEY                PIC X(10).
           05  ROW-COUNT               PIC 9(3).
           05  TXN-ROW OCCURS 0 TO 50 TIMES
                       DEPENDING ON ROW-COUNT.
               10  TXN-DATE            PIC 9(8).
               10  TXN-TIME            PIC 9(6).
               10  TXN-TYPE            PIC X(2).
                   88  TXN-DEPOSIT     VALUE 'DP'.
                   88  TXN-WITHDRAW    VALUE 'WD'.
                   88  TXN-XFER-IN     VALUE 'TI'.
                   88  TXN-XFER-OUT    VALUE 'TO'.
                   88  TXN-CANCEL-IN   VALUE 'CI'.
                   88  TXN-CANCEL-OUT  VALUE 'CO'.
               10  TXN-AMT             PIC S9(11)V99 COMP-3.
               10  TXN-BAL             PIC S9(13)V99 COMP-3.
               10  TXN-MEMO            PIC X(20).
