      *================================================================*
      * ACCTINQ  - ACCOUNT INQUIRY: BODY AFTER COMM-HDR                 *
      *================================================================*
       01  ACCTINQ-REQ.
           05  ACCT-NO                 PIC X(16).
      *
       01  ACCTINQ-RESP.
           05  ACCT-NO                 PIC X(16).
           05  CUST-NAME               PIC X(30).
           05  ACCT-STATUS             PIC X.
               88  ACCT-ACTIVE         VALUE 'A'.
               88  ACCT-DORMANT        VALUE 'D'.
               88  ACCT-CLOSED         VALUE 'C'.
           05  BALANCE                 PIC S9(13)V99 COMP-3.
           05  AVAIL-BAL               PIC S9(13)V99 COMP-3.
           05  INT-RATE                PIC S9(3)V9(4) COMP-3.
           05  LAST-TXN-DATE           PIC 9(8).
