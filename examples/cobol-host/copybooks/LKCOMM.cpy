      *================================================================*
      * LKCOMM   - WHAT THE DISPATCHER PASSES A TRANSACTION PROGRAM:   *
      *            THE MESSAGE (COMM-HDR + BODY) AS A COMMAREA, ITS    *
      *            LENGTH, AND THE REPLY LENGTH THE PROGRAM SETS. THE  *
      *            REPLY IS WRITTEN BACK INTO THE SAME COMMAREA.       *
      *================================================================*
       01  LK-COMMAREA                 PIC X(4096).
       01  LK-MSG-LEN                  PIC S9(8) COMP.
       01  LK-REPLY-LEN                PIC S9(8) COMP.
